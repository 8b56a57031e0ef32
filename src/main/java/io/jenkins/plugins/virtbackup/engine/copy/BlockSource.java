package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * What a copy or a verification reads: a file, a block device, later an NBD export. It says where
 * its data is, so that holes are never read, and reads that data at any offset.
 */
public interface BlockSource extends AutoCloseable {
    /** The size in bytes, as it was when opened. */
    long size();

    /** The extents covering {@code [from, to)} exactly, in order, data and holes alternating. */
    List<Extent> extents(long from, long to) throws IOException;

    /** Fills {@code into} from {@code position} on; a source that ends first fails the read. */
    void read(ByteBuffer into, long position) throws IOException;

    /** For messages: the path or the export's name. */
    String name();

    @Override
    void close() throws IOException;
}
