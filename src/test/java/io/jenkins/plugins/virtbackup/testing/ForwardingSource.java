package io.jenkins.plugins.virtbackup.testing;

import io.jenkins.plugins.virtbackup.engine.copy.BlockSource;
import io.jenkins.plugins.virtbackup.engine.copy.Extent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/** Passes everything on to a real source: tests override what they watch or break. */
public abstract class ForwardingSource implements BlockSource {
    private final BlockSource source;

    protected ForwardingSource(BlockSource source) {
        this.source = source;
    }

    @Override
    public long size() {
        return source.size();
    }

    @Override
    public List<Extent> extents(long from, long to) throws IOException {
        return source.extents(from, to);
    }

    @Override
    public void read(ByteBuffer into, long position) throws IOException {
        source.read(into, position);
    }

    @Override
    public String name() {
        return source.name();
    }

    @Override
    public void close() throws IOException {
        source.close();
    }
}
