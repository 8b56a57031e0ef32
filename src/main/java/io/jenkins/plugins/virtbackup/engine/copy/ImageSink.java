package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where a copy writes: today a sparse raw file holding the image as it was; later a qcow2 or a
 * compressed image through other writers. The pipeline writes chunks from one thread, in order;
 * a sink must not rely on either.
 */
public interface ImageSink extends AutoCloseable {
    /** Writes one chunk that holds data at {@code position}. */
    void write(ByteBuffer chunk, long position) throws IOException;

    /** Gives the image its final size (trailing holes included) and makes it durable. */
    void finish(long size) throws IOException;

    @Override
    void close() throws IOException;
}
