package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes qcow2 images with QEMU's own tools, so that every qcow2 in a backup is one QEMU made and
 * reads back. Implemented in the libvirt adapter ({@code qemu-img} and {@code qemu-nbd}, written
 * to through libnbd).
 */
public interface Qcow2Writer {
    /**
     * Creates {@code file}, which must not exist, as a qcow2 of {@code size} bytes and opens it for
     * writing. Nothing written reads as zeros, or, with a backing file, as the backing file's data.
     *
     * @param backingFile null, or the qcow2 below it as a path relative to {@code file}'s folder, as
     *                    it is written into the image (so that the backup tree can be moved)
     */
    ImageSink create(Path file, long size, String backingFile) throws IOException;
}
