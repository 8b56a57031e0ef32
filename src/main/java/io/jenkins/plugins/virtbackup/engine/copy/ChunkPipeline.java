package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Moves a source's data chunk by chunk: this thread reads, in order, only the data extents of each
 * chunk (holes become zeros in the buffer and are never read); a pool of one thread per core
 * hashes the chunks while this thread reads ahead; this thread then writes each chunk that holds
 * data to the sink, in order. A chunk that holds only holes costs one question to the file system.
 * Memory is a fixed number of chunk buffers, whatever the source's size, and the entries reach the
 * index in order.
 */
public final class ChunkPipeline {
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(ChunkIndex.CHUNK_SIZE).asReadOnlyBuffer();
    private static final AtomicInteger POOLS = new AtomicInteger();

    private final BooleanSupplier cancelled;
    private final int threads;

    /** @param cancelled polled between chunks; when it turns true the run stops with an exception */
    public ChunkPipeline(BooleanSupplier cancelled) {
        this(cancelled, Runtime.getRuntime().availableProcessors());
    }

    ChunkPipeline(BooleanSupplier cancelled, int threads) {
        this.cancelled = cancelled;
        this.threads = Math.max(1, threads);
    }

    /** Changes the first chunk before it is hashed and written (an image header's field). */
    @FunctionalInterface
    public interface FirstChunk {
        void change(ByteBuffer chunk) throws IOException;
    }

    /**
     * What a run moved.
     *
     * @param size      the source's size
     * @param dataBytes the bytes read: the data extents, holes left out
     */
    public record Totals(long size, long dataBytes) {
    }

    /**
     * Runs the source through: every chunk's entry goes to {@code entries}, in order; chunks with
     * data go to {@code sink} (may be null: hashing only).
     *
     * @param firstChunk may be null
     * @param progress   may be null
     */
    public Totals run(BlockSource source, ImageSink sink, ChunkIndex.Entries entries, FirstChunk firstChunk,
                      Progress progress) throws IOException {
        int buffers = 2 * threads + 1;
        Deque<ByteBuffer> free = new ArrayDeque<>(buffers);
        for (int i = 0; i < buffers; i++) {
            free.add(newChunkBuffer());
        }
        ExecutorService hashers = Executors.newFixedThreadPool(threads, runnable -> {
            Thread thread = new Thread(runnable, "virt-backup-hash-" + POOLS.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        Deque<Pending> inFlight = new ArrayDeque<>();
        Drain drain = new Drain(inFlight, free, sink, entries);
        long size = source.size();
        long chunks = ChunkIndex.chunkCount(size, ChunkIndex.CHUNK_SIZE);
        long dataBytes = 0;
        try {
            for (long chunk = 0; chunk < chunks; chunk++) {
                if (cancelled.getAsBoolean()) {
                    throw new CopyCancelledException("reading " + source.name() + " cancelled");
                }
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException();  // before a read, which an interrupt would close the file under
                }
                long start = chunk * ChunkIndex.CHUNK_SIZE;
                int length = (int) Math.min(ChunkIndex.CHUNK_SIZE, size - start);
                List<Extent> extents = source.extents(start, start + length);
                // The hook changes the first chunk even where it is a hole: its change is data then.
                boolean hooked = chunk == 0 && firstChunk != null;
                if (!hooked && extents.stream().noneMatch(Extent::data)) {
                    inFlight.add(new Pending(start, null, CompletableFuture.completedFuture(null)));
                } else {
                    while (free.isEmpty()) {
                        drain.oldest();
                    }
                    ByteBuffer buffer = free.poll();
                    dataBytes += readChunk(source, buffer, start, length, extents);
                    if (hooked) {
                        firstChunk.change(buffer.duplicate());
                    }
                    inFlight.add(new Pending(start, buffer, hashers.submit(() -> hash(buffer))));
                }
                while (inFlight.size() > buffers) {
                    drain.oldest();
                }
                if (progress != null) {
                    progress.update(start + length, size);
                }
            }
            while (!inFlight.isEmpty()) {
                drain.oldest();
            }
        } catch (InterruptedException | ClosedByInterruptException e) {
            Thread.currentThread().interrupt();
            throw new CopyCancelledException("reading " + source.name() + " interrupted");
        } finally {
            stop(hashers, inFlight);
        }
        if (progress != null) {
            progress.done();
        }
        return new Totals(size, dataBytes);
    }

    /** A chunk read and being hashed; {@code buffer} is null for a chunk of holes. */
    private record Pending(long start, ByteBuffer buffer, Future<String> digest) {
    }

    /**
     * Finishes chunks in order, on the reading thread: their entries go to the index and their data
     * to the sink. One thread writes because writers to one file queue on its lock: with two of
     * them, an eighth of a run went to spinning on it (measured, docs/benchmark.md).
     */
    private record Drain(Deque<Pending> inFlight, Deque<ByteBuffer> free, ImageSink sink,
                         ChunkIndex.Entries entries) {
        void oldest() throws IOException, InterruptedException {
            Pending chunk = inFlight.poll();
            String digest = await(chunk.digest());
            if (chunk.buffer() != null) {
                if (digest != null && sink != null) {
                    sink.write(chunk.buffer().duplicate(), chunk.start());
                }
                free.add(chunk.buffer());
            }
            entries.add(chunk.start() / ChunkIndex.CHUNK_SIZE, digest);
        }
    }

    /** A direct buffer of one chunk, aligned so that a {@link FileSource} can fill it with O_DIRECT. */
    public static ByteBuffer newChunkBuffer() {
        return ByteBuffer.allocateDirect(ChunkIndex.CHUNK_SIZE + 4096).alignedSlice(4096)
                .slice(0, ChunkIndex.CHUNK_SIZE);
    }

    /**
     * Fills {@code buffer} with the {@code length} bytes (at most a chunk) from {@code start}: reads
     * the data extents and zeros the holes, which are never read; returns the bytes read.
     *
     * @param extents the source's extents of exactly that range
     */
    public static long readChunk(BlockSource source, ByteBuffer buffer, long start, int length, List<Extent> extents)
            throws IOException {
        buffer.clear().limit(length);
        long read = 0;
        for (Extent extent : extents) {
            int from = (int) (extent.offset() - start);
            ByteBuffer part = buffer.slice(from, (int) extent.length());
            if (extent.data()) {
                source.read(part, extent.offset());
                read += extent.length();
            } else {
                part.put(ZEROS.slice(0, (int) extent.length()));
            }
        }
        return read;
    }

    /** Hashes one chunk; returns its entry: its SHA-256, or null when it holds zeros only. */
    private static String hash(ByteBuffer buffer) {
        if (buffer.mismatch(ZEROS.slice(0, buffer.limit())) == -1) {
            return null;
        }
        MessageDigest sha256 = Digests.sha256();
        sha256.update(buffer.duplicate());
        return HexFormat.of().formatHex(sha256.digest());
    }

    private static String await(Future<String> entry) throws IOException, InterruptedException {
        try {
            return entry.get();
        } catch (ExecutionException e) {
            throw failureOf(e);
        }
    }

    /** What a worker threw, to throw again on the caller's thread: an IOException, or unchecked as it was. */
    static IOException failureOf(ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof IOException io) {
            return io;
        }
        if (cause instanceof RuntimeException runtime) {
            throw runtime;
        }
        return new IOException(cause);
    }

    /** Stops the hashers and waits for them, so that nothing writes to the sink once it is closed. */
    private static void stop(ExecutorService hashers, Deque<Pending> inFlight) {
        inFlight.forEach(chunk -> chunk.digest().cancel(false));
        hashers.shutdown();
        boolean interrupted = false;
        while (true) {
            try {
                if (hashers.awaitTermination(1, TimeUnit.MINUTES)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
