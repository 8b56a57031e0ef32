package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * Writes qcow2 images with QEMU's own tools, so that every qcow2 in a backup is one QEMU made and
 * reads back. Implemented in the libvirt adapter ({@code qemu-img}, and {@code qemu-nbd} written
 * to through libnbd).
 *
 * <p>A writer either writes plain clusters or, once {@link #compressed}, compresses each data
 * cluster with zstd (QEMU's {@code compression_type=zstd}): QEMU reads such an image as it reads
 * any other, so a compressed backup restores and boots without unpacking.
 */
public interface Qcow2Writer {
    /** The name QEMU and the manifest give the compression this version writes. */
    String ZSTD = "zstd";

    /** The same writer, writing zstd-compressed data clusters. */
    Qcow2Writer compressed();

    /** How data clusters are compressed: {@link #ZSTD}, or null for not at all. */
    String compression();

    /**
     * Writes one image of a disk's chain into {@code file}, a new qcow2: the clusters the image
     * holds itself (its data and its zeros, which hide what lies below), not what it reads through
     * its backing file. With {@code backingFile}, the new image reads the rest through that file,
     * the copy of the image below, so the chain keeps its shape.
     *
     * @param format      the image's format, {@code qcow2} or {@code raw}
     * @param backingFile null, or the copy below as a name relative to {@code file}'s folder; it
     *                    must exist already
     * @param progress    told the percentage done now and then
     * @throws CopyCancelledException when {@code cancelled} turns true; the tool is stopped
     */
    void copyImage(Path image, String format, Path file, String backingFile, BooleanSupplier cancelled,
                   IntConsumer progress) throws IOException;

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
     * @return a sink whose {@link ImageSink#granularity} a compressed image's copy must respect
     */
    ImageSink create(Path file, long size, String backingFile, int connections) throws IOException;
}
