package io.jenkins.plugins.virtbackup.testing;

import io.jenkins.plugins.virtbackup.engine.copy.BlockSource;
import io.jenkins.plugins.virtbackup.engine.copy.Extent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Passes reads on to a real source and remembers each one, so that a test can tell what a copy
 * read: only data, and how much. Reads come from the pipeline's one reading thread.
 */
public final class RecordingSource extends ForwardingSource {
    private final List<Extent> reads = new ArrayList<>();

    public RecordingSource(BlockSource source) {
        super(source);
    }

    /** Every read so far, in order. */
    public List<Extent> reads() {
        return reads;
    }

    /** The bytes read so far. */
    public long bytesRead() {
        return reads.stream().mapToLong(Extent::length).sum();
    }

    @Override
    public void read(ByteBuffer into, long position) throws IOException {
        reads.add(new Extent(position, into.remaining(), true));
        super.read(into, position);
    }

    @Override
    public void close() {
        // the wrapped source belongs to the test
    }
}
