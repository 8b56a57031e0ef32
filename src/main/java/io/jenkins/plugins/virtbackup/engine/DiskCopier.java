package io.jenkins.plugins.virtbackup.engine;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * Streams one file or block device into a new file: sparse-aware, checksummed while copying, with
 * memory bounded by one buffer whatever the disk's size.
 *
 * <p>Runs of zeros, {@link #HOLE_GRANULE} by {@link #HOLE_GRANULE} (a file system block), are not
 * written but skipped, so they stay holes in the copy, as {@code cp --sparse=always} does. That
 * keeps holes of a sparse source without asking the file system where they are, and works the same
 * for block devices.
 */
public final class DiskCopier {
    /** Large enough for sequential throughput; the unit of reading, hashing and cancellation. */
    static final int BLOCK_SIZE = 1 << 20;
    /**
     * Zero runs are found at this granularity within each block: with whole blocks only, a block
     * holding a few KiB of data (qcow2 metadata, say) would be written in full, and the copy would
     * allocate more than its source (measured in bench/, docs/benchmark.md).
     */
    static final int HOLE_GRANULE = 4096;

    private final BooleanSupplier cancelled;

    /** @param cancelled polled between blocks; when it turns true the copy stops with an exception */
    public DiskCopier(BooleanSupplier cancelled) {
        this.cancelled = cancelled;
    }

    /**
     * Copies {@code source} into {@code target}, which must not exist yet, and syncs it to disk.
     */
    public FileDigest copy(Path source, Path target) throws IOException {
        return copy(source, target, null);
    }

    /** As {@link #copy(Path, Path)}, reporting bytes done to {@code progress} (may be null). */
    FileDigest copy(Path source, Path target, Progress progress) throws IOException {
        return copy(source, target, progress, null);
    }

    /** Changes the first block of a copy before it is written and hashed (an image header's field). */
    @FunctionalInterface
    interface FirstBlock {
        void change(ByteBuffer block) throws IOException;
    }

    /**
     * As {@link #copy(Path, Path, Progress)}; {@code firstBlock} (may be null) changes the copy's
     * first block, so that the checksum is the copy's, not the source's.
     */
    FileDigest copy(Path source, Path target, Progress progress, FirstBlock firstBlock) throws IOException {
        MessageDigest sha256 = newSha256();
        ByteBuffer zeros = ByteBuffer.allocateDirect(BLOCK_SIZE);
        long position = 0;
        try (BlockReader in = BlockReader.open(source);
             RandomAccessFile out = openNew(target)) {
            FileChannel outChannel = out.getChannel();
            long total = in.size();
            int filled;
            while ((filled = in.next()) > 0) {
                if (cancelled.getAsBoolean()) {
                    throw new CopyCancelledException("copy of " + source + " cancelled");
                }
                ByteBuffer buffer = in.block();
                if (position == 0 && firstBlock != null) {
                    firstBlock.change(buffer);
                }
                writeNonZeroRuns(outChannel, buffer.duplicate(), zeros, position);
                sha256.update(buffer);
                position += filled;
                if (progress != null) {
                    progress.update(position, total);
                }
            }
            if (progress != null) {
                progress.done();
            }
            // Trailing zero blocks were skipped: setting the length leaves them as one hole.
            out.setLength(position);
            outChannel.force(true);
        }
        return new FileDigest(position, HexFormat.of().formatHex(sha256.digest()));
    }

    /** Reads a file back in full to recompute what {@link #copy} reported. */
    public FileDigest digest(Path file) throws IOException {
        MessageDigest sha256 = newSha256();
        long size = 0;
        try (BlockReader in = BlockReader.open(file)) {
            int filled;
            while ((filled = in.next()) > 0) {
                if (cancelled.getAsBoolean()) {
                    throw new CopyCancelledException("verification of " + file + " cancelled");
                }
                sha256.update(in.block());
                size += filled;
            }
        }
        return new FileDigest(size, HexFormat.of().formatHex(sha256.digest()));
    }

    /** Syncs a file another process wrote (libvirt, QEMU) to disk, then reads it back in full. */
    public FileDigest syncAndDigest(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        return digest(file);
    }

    /**
     * Reads a file or block device block by block, bypassing the page cache (O_DIRECT) where the
     * file system allows it: holes then cost nothing to read, a read-back checks what reached the
     * disk, and a backup does not push the host's working set out of its cache. Where O_DIRECT is
     * refused (tmpfs, for one) it reads through the cache.
     */
    private static final class BlockReader implements AutoCloseable {
        private final FileChannel channel;
        private final boolean direct;
        private final ByteBuffer buffer;
        private boolean atEnd;

        private BlockReader(FileChannel channel, boolean direct, ByteBuffer buffer) {
            this.channel = channel;
            this.direct = direct;
            this.buffer = buffer;
        }

        static BlockReader open(Path file) throws IOException {
            try {
                FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
                int alignment = (int) Math.max(4096, Files.getFileStore(file).getBlockSize());
                ByteBuffer aligned = ByteBuffer.allocateDirect(BLOCK_SIZE + alignment).alignedSlice(alignment);
                return new BlockReader(channel, true, aligned.limit(BLOCK_SIZE).slice());
            } catch (IOException | UnsupportedOperationException e) {
                FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
                return new BlockReader(channel, false, ByteBuffer.allocateDirect(BLOCK_SIZE));
            }
        }

        long size() throws IOException {
            return channel.size();
        }

        /** Reads the next block; returns its length, 0 at the end. */
        int next() throws IOException {
            if (atEnd) {
                return 0;
            }
            buffer.clear();
            if (direct) {
                // Direct reads must stay aligned: a short read is the end of the file, not a retry.
                atEnd = channel.read(buffer) < BLOCK_SIZE;
            } else {
                while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
                    // fill the block unless the end comes first
                }
                atEnd = buffer.hasRemaining();
            }
            buffer.flip();
            return buffer.remaining();
        }

        /** The block last read, positioned at its start. */
        ByteBuffer block() {
            return buffer;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    private static RandomAccessFile openNew(Path target) throws IOException {
        // CREATE_NEW semantics: never write into a file that exists, whatever it is.
        FileChannel.open(target, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(BackupDirectory.FILE_MODE)).close();
        return new RandomAccessFile(target.toFile(), "rw");
    }

    /**
     * Writes the parts of {@code data} (which starts at file offset {@code position}) that are not
     * zeros: runs of all-zero granules are skipped and stay holes. An all-zero block costs one
     * comparison.
     */
    private static void writeNonZeroRuns(FileChannel out, ByteBuffer data, ByteBuffer zeros, long position)
            throws IOException {
        int end = data.limit();
        if (isZeros(data, 0, end, zeros)) {
            return;
        }
        int runStart = -1;
        for (int at = 0; at < end; at += HOLE_GRANULE) {
            boolean zero = isZeros(data, at, Math.min(at + HOLE_GRANULE, end), zeros);
            if (!zero && runStart < 0) {
                runStart = at;
            } else if (zero && runStart >= 0) {
                writeFully(out, data.slice(runStart, at - runStart), position + runStart);
                runStart = -1;
            }
        }
        if (runStart >= 0) {
            writeFully(out, data.slice(runStart, end - runStart), position + runStart);
        }
    }

    private static boolean isZeros(ByteBuffer data, int from, int to, ByteBuffer zeros) {
        return data.slice(from, to - from).mismatch(zeros.slice(0, to - from)) == -1;
    }

    private static void writeFully(FileChannel out, ByteBuffer data, long position) throws IOException {
        long at = position;
        while (data.hasRemaining()) {
            at += out.write(data, at);
        }
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
