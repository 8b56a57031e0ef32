package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 *
 * <p>Several workers copy at once, each reading through its own connection and writing through
 * the sink (which must take writes from several threads): one NBD request at a time leaves both
 * servers idle half the time; {@code bench/run} measured the difference (docs/benchmark.md).
 * Pieces never overlap, so their order does not matter. A sink that takes whole clusters only
 * (a compressing one, {@link ImageSink#granularity}) gets pieces of whole clusters, never two
 * pieces of one cluster.
 */
public final class ExtentCopy {
    /** Large enough that the round trips of NBD cost little, small enough to stay within its limits. */
    static final int PIECE = 4 << 20;
    private static final AtomicInteger POOLS = new AtomicInteger();

    private final BooleanSupplier cancelled;

    public ExtentCopy(BooleanSupplier cancelled) {
        this.cancelled = cancelled;
    }

    /** What a copy moved. */
    public record Totals(long dataBytes, long zeroBytes, long holeBytes) {
    }

    /**
     * @param sources     one connection per worker to the same source; the first also says where its data is
     * @param sink        takes writes from all workers at once
     * @param zerosMatter true for an incremental: zeros read inside data are written as zeros
     */
    public Totals copy(List<? extends BlockSource> sources, ImageSink sink, boolean zerosMatter, Progress progress)
            throws IOException {
        BlockSource first = sources.get(0);
        List<Extent> extents = widen(first.extents(0, first.size()), sink.granularity(), first.size());
        long holes = extents.stream().filter(e -> !e.data()).mapToLong(Extent::length).sum();
        long total = first.size() - holes;
        Pieces pieces = new Pieces(extents);
        AtomicLong data = new AtomicLong();
        AtomicLong zeros = new AtomicLong();
        ExecutorService workers = Executors.newFixedThreadPool(sources.size(), runnable -> {
            Thread thread = new Thread(runnable, "virt-backup-copy-" + POOLS.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        try {
            List<Future<?>> running = new ArrayList<>();
            for (BlockSource source : sources) {
                running.add(workers.submit(() -> {
                    try {
                        work(source, sink, zerosMatter, pieces, data, zeros);
                    } catch (IOException | RuntimeException e) {
                        pieces.stop();
                        throw e;
                    }
                    return null;
                }));
            }
            awaitAll(running, () -> progress.update(data.get() + zeros.get(), total));
        } finally {
            workers.shutdownNow();
            awaitEnd(workers);
        }
        sink.finish(first.size());
        progress.done();
        return new Totals(data.get(), zeros.get(), holes);
    }

    /** Copies pieces until none is left, another worker failed, or the copy is cancelled. */
    private void work(BlockSource source, ImageSink sink, boolean zerosMatter, Pieces pieces, AtomicLong data,
                      AtomicLong zeros) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(PIECE);
        long[] piece;
        while ((piece = pieces.next()) != null) {
            if (cancelled.getAsBoolean() || Thread.currentThread().isInterrupted()) {
                throw new CopyCancelledException("copy of " + source.name() + " cancelled");
            }
            int length = (int) piece[1];
            buffer.clear().limit(length);
            source.read(buffer, piece[0]);
            buffer.flip();
            if (!isZeros(buffer, length)) {
                sink.write(buffer, piece[0]);
                data.addAndGet(length);
            } else {
                if (zerosMatter) {
                    sink.writeZeros(piece[0], length);
                }
                zeros.addAndGet(length);
            }
        }
    }

    /** Waits for every worker, reporting progress meanwhile; the first failure stops the others. */
    private static void awaitAll(List<Future<?>> running, Runnable tick) throws IOException {
        try {
            for (Future<?> worker : running) {
                while (true) {
                    try {
                        worker.get(200, TimeUnit.MILLISECONDS);
                        break;
                    } catch (TimeoutException stillRunning) {
                        tick.run();
                    }
                }
            }
        } catch (ExecutionException e) {
            running.forEach(worker -> worker.cancel(true));
            throw ChunkPipeline.failureOf(e);
        } catch (InterruptedException e) {
            running.forEach(worker -> worker.cancel(true));
            Thread.currentThread().interrupt();
            throw new CopyCancelledException("interrupted while copying");
        }
    }

    /**
     * Returns once no worker runs: after a failure, one may still be in a read or a write that an
     * interrupt does not stop (libnbd's), and the caller closes the sources and the sink next.
     */
    private static void awaitEnd(ExecutorService workers) {
        boolean interrupted = false;
        boolean ended = false;
        while (!ended) {
            try {
                ended = workers.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                interrupted = true;  // the caller's stop request is kept, and honoured once they end
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The extents with every data extent widened to whole units of {@code granularity} (bounded
     * by {@code size}), and data extents that then touch or overlap merged: a sink that writes
     * whole clusters, each once, must never get two pieces of one cluster. Widening reads a little
     * more than the source calls data; what it reads there is what the source holds, so writing it
     * changes nothing.
     */
    static List<Extent> widen(List<Extent> extents, int granularity, long size) {
        if (granularity <= 1) {
            return extents;
        }
        List<Extent> widened = new ArrayList<>();
        long at = 0;
        long dataStart = -1;
        long dataEnd = -1;
        for (Extent extent : extents) {
            if (!extent.data()) {
                continue;
            }
            long start = extent.offset() / granularity * granularity;
            long end = Math.min(size, (extent.end() + granularity - 1) / granularity * granularity);
            if (dataStart >= 0 && start <= dataEnd) {
                dataEnd = Math.max(dataEnd, end);
                continue;
            }
            if (dataStart >= 0) {
                at = addData(widened, at, dataStart, dataEnd);
            }
            dataStart = start;
            dataEnd = end;
        }
        if (dataStart >= 0) {
            at = addData(widened, at, dataStart, dataEnd);
        }
        if (at < size) {
            widened.add(new Extent(at, size - at, false));
        }
        return widened;
    }

    /** Adds the hole before {@code [start, end)}, if any, and that data extent; returns its end. */
    private static long addData(List<Extent> extents, long at, long start, long end) {
        if (start > at) {
            extents.add(new Extent(at, start - at, false));
        }
        extents.add(new Extent(start, end - start, true));
        return end;
    }

    /** The data extents cut into pieces of at most {@link #PIECE}, handed out one by one: {offset, length}. */
    private static final class Pieces {
        private final Iterator<Extent> extents;
        private Extent current;
        private long at;
        private boolean stopped;

        Pieces(List<Extent> extents) {
            this.extents = extents.stream().filter(Extent::data).iterator();
        }

        /** A worker failed: the others stop at their next piece. */
        synchronized void stop() {
            stopped = true;
        }

        synchronized long[] next() {
            if (stopped) {
                return null;
            }
            while (current == null || at >= current.end()) {
                if (!extents.hasNext()) {
                    return null;
                }
                current = extents.next();
                at = current.offset();
            }
            long length = Math.min(PIECE, current.end() - at);
            long[] piece = {at, length};
            at += length;
            return piece;
        }
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
