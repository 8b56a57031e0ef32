package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * Writes qcow2 images with QEMU's own tools, so that every qcow2 in a backup is one QEMU made and
 * reads back. Implemented in the libvirt adapter ({@code qemu-img}, and {@code qemu-nbd} written
 * to through libnbd).
 */
public interface Qcow2Writer {
    /**
     * Copies a whole NBD export into {@code file}, a new qcow2, with {@code qemu-img convert}: it
     * asks the export which extents are allocated and reads only those, many requests at a time.
     *
     * @param nbdUri   the export, as an NBD URI ({@code nbd+unix:///vda?socket=...})
     * @param progress told the percentage done now and then
     * @throws CopyCancelledException when {@code cancelled} turns true; the tool is stopped
     */
    void convert(String nbdUri, Path file, BooleanSupplier cancelled, IntConsumer progress) throws IOException;

    /**
     * Creates {@code file}, which must not exist, as a qcow2 of {@code size} bytes and opens it for
     * writing. Nothing written reads as zeros, or, with a backing file, as the backing file's data.
     *
     * @param backingFile null, or the qcow2 below it as a path relative to {@code file}'s folder, as
     *                    it is written into the image (so that the backup tree can be moved)
     * @param connections how many writes the sink takes at once, from as many threads
     */
    ImageSink create(Path file, long size, String backingFile, int connections) throws IOException;
}
