package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where a copy writes: a sparse raw file holding the image as it was ({@link SparseFileSink}), or a
 * qcow2 that QEMU's own tools write (an incremental's, over its parent). The pipeline writes chunks
 * from one thread, in order; a sink must not rely on either.
 */
public interface ImageSink extends AutoCloseable {
    /** Writes one chunk that holds data at {@code position}. */
    void write(ByteBuffer chunk, long position) throws IOException;

    /**
     * Makes {@code [position, position + length)} read as zeros. An incremental needs this: there a
     * range not written reads as the parent's data, not as zeros. This default writes zeros;
     * sinks that can mark a range as zeros without writing it do so.
     */
    default void writeZeros(long position, long length) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
        for (long at = position; at < position + length; at += zeros.capacity()) {
            write(zeros.clear().limit((int) Math.min(zeros.capacity(), position + length - at)), at);
        }
    }

    /**
     * The least unit the sink takes writes in, in bytes: every write and every range made zeros
     * starts at a multiple of it and is a multiple of it long, except where the image ends. A sink
     * that compresses writes whole clusters, each once, so the copy widens what it reads to them.
     */
    default int granularity() {
        return 1;
    }

    /** Gives the image its final size (trailing holes included) and makes it durable. */
    void finish(long size) throws IOException;

    @Override
    void close() throws IOException;
}
