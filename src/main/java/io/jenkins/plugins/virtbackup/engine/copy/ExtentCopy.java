package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Copies the data extents of a source into a sink, piece by piece, and nothing else: what a pull
 * backup moves from the hypervisor's NBD export into the backup's qcow2.
 *
 * <p>What a range the source calls a hole means depends on the backup: for a full backup it reads
 * as zeros, and so does the new, empty target there; for an incremental it is "unchanged since the
 * parent", which the target's backing file already holds. Either way it is skipped. Zeros found
 * inside data are different: a full backup skips them too (the target reads zeros there already),
 * an incremental must write them, or the target would show the parent's data where the guest
 * wrote zeros.
 */
public final class ExtentCopy {
    /** Large enough that the round trips of NBD cost little, small enough to stay within its limits. */
    static final int PIECE = 4 << 20;

    private final BooleanSupplier cancelled;

    public ExtentCopy(BooleanSupplier cancelled) {
        this.cancelled = cancelled;
    }

    /** What a copy moved. */
    public record Totals(long dataBytes, long zeroBytes, long holeBytes) {
    }

    /**
     * @param zerosMatter true for an incremental: zeros read inside data are written as zeros
     */
    public Totals copy(BlockSource source, ImageSink sink, boolean zerosMatter, Progress progress) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(PIECE);
        long data = 0;
        long zeros = 0;
        long holes = 0;
        List<Extent> extents = source.extents(0, source.size());
        long total = extents.stream().filter(Extent::data).mapToLong(Extent::length).sum();
        for (Extent extent : extents) {
            if (!extent.data()) {
                holes += extent.length();
                continue;
            }
            for (long at = extent.offset(); at < extent.end(); at += PIECE) {
                if (cancelled.getAsBoolean()) {
                    throw new CopyCancelledException("copy of " + source.name() + " cancelled");
                }
                int length = (int) Math.min(PIECE, extent.end() - at);
                buffer.clear().limit(length);
                source.read(buffer, at);
                buffer.flip();
                if (!isZeros(buffer, length)) {
                    sink.write(buffer, at);
                    data += length;
                } else {
                    if (zerosMatter) {
                        sink.writeZeros(at, length);
                    }
                    zeros += length;
                }
                progress.update(data + zeros, total);
            }
        }
        sink.finish(source.size());
        progress.done();
        return new Totals(data, zeros, holes);
    }

    private static boolean isZeros(ByteBuffer piece, int length) {
        for (int at = 0; at < length; at += SparseFileSink.HOLE_GRANULE) {
            if (!SparseFileSink.isZeros(piece, at, Math.min(at + SparseFileSink.HOLE_GRANULE, length))) {
                return false;
            }
        }
        return true;
    }
}
