package io.jenkins.plugins.virtbackup.engine;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.BooleanSupplier;

/**
 * Streams one file or block device into a new file: sparse-aware, checksummed while copying, with
 * memory bounded by a few buffers whatever the disk's size.
 *
 * <p>Runs of zeros ({@link #HOLE_GRANULE} by {@link #HOLE_GRANULE}) are not written but skipped, so
 * they stay holes in the copy, as {@code cp --sparse=always} does. That keeps holes of a sparse
 * source without asking the file system where they are, and works the same for block devices. The
 * SHA-256 of the whole logical content is computed on a second thread while copying (see
 * {@link Sha256Pipeline}); measured in bench/, docs/benchmark.md.
 */
public final class DiskCopier {
    /** Large enough for sequential throughput; the unit of reading, hashing and cancellation. */
    static final int BLOCK_SIZE = 1 << 20;
    /** Zero runs are detected at this granularity (a file system block, as {@code cp} does). */
    static final int HOLE_GRANULE = 4096;
    /** Read-only zeros to compare blocks against (slices of it are shared by every thread). */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(BLOCK_SIZE).asReadOnlyBuffer();

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
        long position = 0;
        try (Sha256Pipeline sha256 = new Sha256Pipeline(source);
             FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
             RandomAccessFile out = openNew(target)) {
            FileChannel outChannel = out.getChannel();
            long total = in.size();
            while (true) {
                ByteBuffer buffer = sha256.freeBuffer();
                int filled = fill(in, buffer);
                if (filled == 0) {
                    sha256.recycle(buffer);
                    break;
                }
                if (cancelled.getAsBoolean()) {
                    throw new CopyCancelledException("copy of " + source + " cancelled");
                }
                buffer.flip();
                writeNonZeroRuns(outChannel, buffer.duplicate(), position);
                sha256.submit(buffer);
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
            return new FileDigest(position, sha256.finish());
        }
    }

    /** Reads a file back in full to recompute what {@link #copy} reported. */
    public FileDigest digest(Path file) throws IOException {
        long size = 0;
        try (Sha256Pipeline sha256 = new Sha256Pipeline(file);
             FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            while (true) {
                ByteBuffer buffer = sha256.freeBuffer();
                int filled = fill(in, buffer);
                if (filled == 0) {
                    sha256.recycle(buffer);
                    break;
                }
                if (cancelled.getAsBoolean()) {
                    throw new CopyCancelledException("verification of " + file + " cancelled");
                }
                buffer.flip();
                sha256.submit(buffer);
                size += filled;
            }
            return new FileDigest(size, sha256.finish());
        }
    }

    private static RandomAccessFile openNew(Path target) throws IOException {
        // CREATE_NEW semantics: never write into a file that exists, whatever it is.
        FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        return new RandomAccessFile(target.toFile(), "rw");
    }

    /** Fills the buffer from the channel unless the end comes first; returns the bytes read. */
    private static int fill(FileChannel in, ByteBuffer buffer) throws IOException {
        buffer.clear();
        while (buffer.hasRemaining()) {
            if (in.read(buffer) < 0) {
                break;
            }
        }
        return buffer.position();
    }

    /**
     * Writes the parts of {@code data} (which starts at file offset {@code position}) that are not
     * zeros, {@link #HOLE_GRANULE} by {@link #HOLE_GRANULE}: runs of zero granules are skipped and
     * stay holes.
     */
    private static void writeNonZeroRuns(FileChannel out, ByteBuffer data, long position) throws IOException {
        int start = data.position();
        int end = data.limit();
        if (isZeros(data, start, end)) {
            return;
        }
        int runStart = -1;
        for (int at = start; at < end; at += HOLE_GRANULE) {
            boolean zero = isZeros(data, at, Math.min(at + HOLE_GRANULE, end));
            if (!zero && runStart < 0) {
                runStart = at;
            } else if (zero && runStart >= 0) {
                writeFully(out, data.slice(runStart, at - runStart), position + runStart - start);
                runStart = -1;
            }
        }
        if (runStart >= 0) {
            writeFully(out, data.slice(runStart, end - runStart), position + runStart - start);
        }
    }

    private static boolean isZeros(ByteBuffer data, int from, int to) {
        return data.slice(from, to - from).mismatch(ZEROS.slice(0, to - from)) == -1;
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

    /**
     * SHA-256 on a thread of its own, so that hashing (the costliest step: every logical byte, zeros
     * included) overlaps reading and writing on another core. The copying thread takes a free buffer,
     * fills it, submits it and takes the next; the hashing thread digests submitted buffers in order
     * and hands them back. Memory stays bounded by {@link #BUFFERS} buffers.
     */
    private static final class Sha256Pipeline implements AutoCloseable {
        /** Buffers in flight: one being filled, one being hashed, one queued between them. */
        static final int BUFFERS = 3;
        private static final ByteBuffer END = ByteBuffer.allocate(0);

        private final BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(BUFFERS);
        private final BlockingQueue<ByteBuffer> submitted = new ArrayBlockingQueue<>(BUFFERS + 1);
        private final MessageDigest sha256 = newSha256();
        private final Thread hasher;
        private volatile Throwable failure;
        private boolean ended;

        Sha256Pipeline(Path file) {
            for (int i = 0; i < BUFFERS; i++) {
                free.add(ByteBuffer.allocateDirect(BLOCK_SIZE));
            }
            hasher = new Thread(this::hashSubmitted, "sha256 " + file.getFileName());
            hasher.setDaemon(true);
            hasher.start();
        }

        private void hashSubmitted() {
            try {
                ByteBuffer buffer;
                while ((buffer = submitted.take()) != END) {
                    sha256.update(buffer);
                    free.put(buffer);
                }
            } catch (InterruptedException e) {
                // Closed before the end: the digest is not wanted.
            } catch (RuntimeException | Error e) {
                failure = e;
                free.offer(ByteBuffer.allocateDirect(0));  // wakes a waiting copier, which then sees the failure
            }
        }

        /** A buffer to fill, once the hashing thread has one to spare. */
        ByteBuffer freeBuffer() throws IOException {
            try {
                ByteBuffer buffer = free.take();
                checkFailure();
                return buffer;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while waiting for the checksum");
            }
        }

        /** Hands a filled buffer (position to limit) over to be hashed; it comes back through {@link #freeBuffer}. */
        void submit(ByteBuffer buffer) {
            submitted.add(buffer);
        }

        void recycle(ByteBuffer buffer) {
            free.add(buffer);
        }

        /** Waits until every submitted buffer is hashed; returns the digest in hex. */
        String finish() throws IOException {
            submitted.add(END);
            ended = true;
            try {
                hasher.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while waiting for the checksum");
            }
            checkFailure();
            return HexFormat.of().formatHex(sha256.digest());
        }

        private void checkFailure() {
            if (failure != null) {
                throw new IllegalStateException("checksum thread failed", failure);
            }
        }

        @Override
        public void close() {
            if (!ended) {
                hasher.interrupt();
                try {
                    hasher.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
