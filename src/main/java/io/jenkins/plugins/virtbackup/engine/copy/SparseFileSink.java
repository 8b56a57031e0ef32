package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Writes an image as the raw file it was: a new file (never one that exists), where runs of zeros,
 * {@link #HOLE_GRANULE} by {@link #HOLE_GRANULE}, are skipped and stay holes, as
 * {@code cp --sparse=always} does. The copy then allocates no more than its source.
 */
public final class SparseFileSink implements ImageSink {
    /**
     * Zero runs are found at this granularity within each chunk: with whole chunks only, a chunk
     * holding a few KiB of data (qcow2 metadata, say) would be written in full, and the copy would
     * allocate more than its source (measured in bench/, docs/benchmark.md).
     */
    static final int HOLE_GRANULE = 4096;
    static final int WRITE_PIECE = 128 << 10;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(HOLE_GRANULE).asReadOnlyBuffer();

    /** Kept for {@link RandomAccessFile#setLength}, the one way Java grows a file without writing. */
    private final RandomAccessFile file;
    private final FileChannel out;

    private SparseFileSink(RandomAccessFile file) {
        this.file = file;
        this.out = file.getChannel();
    }

    /** Creates {@code target}, which must not exist, with the permissions {@code mode}. */
    public static SparseFileSink create(Path target, Set<PosixFilePermission> mode) throws IOException {
        // CREATE_NEW: never write into a file that exists, whatever it is.
        FileChannel.open(target, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(mode)).close();
        return new SparseFileSink(new RandomAccessFile(target.toFile(), "rw"));
    }

    @Override
    public void write(ByteBuffer chunk, long position) throws IOException {
        int end = chunk.limit();
        int runStart = -1;
        for (int at = chunk.position(); at < end; at += HOLE_GRANULE) {
            int granuleEnd = Math.min(at + HOLE_GRANULE, end);
            boolean zero = isZeros(chunk, at, granuleEnd);
            if (!zero && runStart < 0) {
                runStart = at;
            } else if (zero && runStart >= 0) {
                writeFully(chunk.slice(runStart, at - runStart), position + runStart - chunk.position());
                runStart = -1;
            }
        }
        if (runStart >= 0) {
            writeFully(chunk.slice(runStart, end - runStart), position + runStart - chunk.position());
        }
    }

    /** Whether {@code [from, to)} of {@code data} holds only zeros. */
    static boolean isZeros(ByteBuffer data, int from, int to) {
        return data.slice(from, to - from).mismatch(ZEROS.slice(0, to - from)) == -1;
    }

    /**
     * Writes in pieces of at most {@link #WRITE_PIECE}, as {@code cp} does: on the development
     * machine's kernel (6.18), 1 MiB writes into the page cache took up to 8 times as long as the
     * same bytes written 128 KiB at a time (docs/benchmark.md).
     */
    private void writeFully(ByteBuffer data, long position) throws IOException {
        long at = position;
        while (data.hasRemaining()) {
            ByteBuffer piece = data.slice(data.position(), Math.min(WRITE_PIECE, data.remaining()));
            int written = out.write(piece, at);
            data.position(data.position() + written);
            at += written;
        }
    }

    @Override
    public void finish(long size) throws IOException {
        // Trailing zeros were skipped: setting the length leaves them as one hole.
        file.setLength(size);
        out.force(true);
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
