package io.jenkins.plugins.virtbackup.engine.copy;

import com.sun.nio.file.ExtendedOpenOption;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
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
    private final ReadAlignment alignment;

    /** @param cancelled polled between blocks; when it turns true the copy stops with an exception */
    public DiskCopier(BooleanSupplier cancelled) {
        this(cancelled, ReadAlignment.OF_FILE_SYSTEM);
    }

    /** As {@link #DiskCopier(BooleanSupplier)}, with the alignment direct reads assume chosen by a test. */
    DiskCopier(BooleanSupplier cancelled, ReadAlignment alignment) {
        this.cancelled = cancelled;
        this.alignment = alignment;
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
        try (BlockReader in = BlockReader.open(source, alignment);
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
        try (BlockReader in = BlockReader.open(file, alignment)) {
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

    /** Where direct reads of a file must be aligned: a seam, so tests can choose a wrong alignment. */
    @FunctionalInterface
    interface ReadAlignment {
        /**
         * Java checks direct reads against the file system's fragment size, the kernel against the
         * device's logical block size: 4 KiB covers that on usual hardware, and where it does not,
         * the kernel refuses the first read and the reader goes on through the cache.
         */
        ReadAlignment OF_FILE_SYSTEM = file -> Math.max(4096, Files.getFileStore(file).getBlockSize());

        long of(Path file) throws IOException;
    }

    /**
     * Reads a file or block device block by block, bypassing the page cache (O_DIRECT) where the
     * file system allows it: holes then cost nothing to read, a read-back checks what reached the
     * disk, and a backup does not push the host's working set out of its cache.
     *
     * <p>Direct reads are only a way of reading: whenever one cannot be made, the rest of the file
     * is read through the cache from the same position, without a word. That happens when the file
     * system refuses O_DIRECT at open (squashfs, for one), refuses the first read (its alignment is
     * not ours), or a short read leaves the position unaligned (at the end of the file, or where a
     * file system returns less than asked for mid-file).
     *
     * <p>Each block is read in full unless the file ends first. A file that ends before or after
     * the size it had when opened fails the read: a copy of a file that changed length is not a
     * copy of anything.
     */
    static final class BlockReader implements AutoCloseable {
        private final Path file;
        /** Reads through the cache; always open, so falling back never needs to open the file again. */
        private final FileChannel cached;
        /** The same file opened with O_DIRECT, or null where that was refused. */
        private final FileChannel direct;
        private final int alignment;
        private final ByteBuffer buffer;
        private final long size;
        private long position;
        private boolean readsDirect;

        private BlockReader(Path file, FileChannel cached, FileChannel direct, int alignment, ByteBuffer buffer,
                long size) {
            this.file = file;
            this.cached = cached;
            this.direct = direct;
            this.alignment = alignment;
            this.buffer = buffer;
            this.size = size;
            this.readsDirect = direct != null;
        }

        static BlockReader open(Path file, ReadAlignment alignments) throws IOException {
            FileChannel cached = FileChannel.open(file, StandardOpenOption.READ);
            FileChannel direct = null;
            try {
                int alignment = usableAlignment(file, alignments);
                if (alignment > 0) {
                    direct = openDirect(file);
                }
                ByteBuffer buffer = direct != null ? alignedBuffer(alignment) : ByteBuffer.allocateDirect(BLOCK_SIZE);
                return new BlockReader(file, cached, direct, alignment, buffer, cached.size());
            } catch (Throwable e) {
                closeAfterFailure(e, cached, direct);
                throw e;
            }
        }

        /** The alignment direct reads of {@code file} need, or 0 where it does not fit our blocks. */
        private static int usableAlignment(Path file, ReadAlignment alignments) {
            long alignment;
            try {
                alignment = alignments.of(file);
            } catch (IOException e) {
                return 0;
            }
            boolean fits = alignment > 0 && alignment <= BLOCK_SIZE && Long.bitCount(alignment) == 1;
            return fits ? (int) alignment : 0;
        }

        private static FileChannel openDirect(Path file) {
            try {
                return FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
            } catch (IOException | UnsupportedOperationException e) {
                return null;  // refused (EINVAL): read through the cache
            }
        }

        /**
         * One block at an odd multiple of {@code alignment}: aligned as direct reads need and no more,
         * so that an alignment too small for the file system fails the first read every time instead
         * of working or not depending on where the allocator put the buffer.
         */
        private static ByteBuffer alignedBuffer(int alignment) {
            ByteBuffer room = ByteBuffer.allocateDirect(BLOCK_SIZE + 4 * alignment).alignedSlice(2 * alignment);
            return room.slice(alignment, BLOCK_SIZE);
        }

        /** The size the file had when it was opened. */
        long size() {
            return size;
        }

        /** Whether the next read bypasses the page cache. */
        boolean readsDirect() {
            return readsDirect;
        }

        /** Reads the next block, full unless the file ends first; returns its length, 0 at the end. */
        int next() throws IOException {
            buffer.clear();
            int read;
            while (buffer.hasRemaining() && (read = readSome()) >= 0) {
                position += read;
            }
            buffer.flip();
            if (position > size) {
                throw changedSize("so far");
            }
            if (!buffer.hasRemaining() && position < size) {
                throw changedSize("up to its end");
            }
            return buffer.remaining();
        }

        /** The block last read, positioned at its start. */
        ByteBuffer block() {
            return buffer;
        }

        private int readSome() throws IOException {
            if (readsDirect && (position % alignment != 0 || buffer.position() % alignment != 0)) {
                readsDirect = false;  // after a short read: O_DIRECT cannot go on from here
            }
            if (readsDirect) {
                try {
                    return direct.read(buffer, position);
                } catch (ClosedChannelException e) {
                    throw e;  // interrupted or closed: no other way of reading would do better
                } catch (IOException e) {
                    // EINVAL from the kernel, or Java's own alignment check: the cache has no such rule.
                    readsDirect = false;
                }
            }
            return cached.read(buffer, position);
        }

        private IOException changedSize(String when) {
            return new IOException(file + " changed size while it was read: " + size + " bytes when opened, "
                    + position + " bytes read " + when);
        }

        @Override
        public void close() throws IOException {
            try (FileChannel first = cached; FileChannel second = direct) {
                // closes both, the second even if closing the first fails
            }
        }
    }

    /** Closes what was opened before {@code failure}, keeping {@code failure} the exception thrown. */
    private static void closeAfterFailure(Throwable failure, AutoCloseable... opened) {
        for (AutoCloseable resource : opened) {
            if (resource == null) {
                continue;
            }
            try {
                resource.close();
            } catch (Exception e) {
                failure.addSuppressed(e);
            }
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
