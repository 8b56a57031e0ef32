package io.jenkins.plugins.virtbackup.engine.copy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import io.jenkins.plugins.virtbackup.testing.Leaks;
import io.jenkins.plugins.virtbackup.testing.ForwardingSource;
import io.jenkins.plugins.virtbackup.testing.RecordingSource;
import io.jenkins.plugins.virtbackup.testing.SparseFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The copy of a pull backup's extents, with real sparse files as sources: what is read (data,
 * never holes), where it lands, what becomes a zero write, and how several workers stop together
 * when one fails or the run is cancelled.
 */
class ExtentCopyTest {
    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final int PIECE = ExtentCopy.PIECE;
    /** Not a multiple of a block: the last piece is short. */
    private static final long SIZE = 40L * MIB + 3000;
    private static final long LONG_EXTENT = 8L * MIB;
    /** The middle piece of the long extent, written as zeros: allocated, but all zero. */
    private static final Extent ZERO_PIECE = new Extent(LONG_EXTENT + PIECE, PIECE, true);
    /** A short extent of written zeros: one piece, all zero. */
    private static final Extent ZERO_EXTENT = new Extent(24L * MIB, 64 * KIB, true);

    @TempDir
    Path dir;

    private final List<FileSource> opened = new ArrayList<>();

    @AfterEach
    void closeSources() throws IOException {
        for (FileSource source : opened) {
            source.close();
        }
    }

    /**
     * Data at the start, a 9 MiB extent (three pieces, the middle one zeros), a short one, one of
     * written zeros, and one ending with the file: everything else a hole.
     */
    private Path sparseSource() throws IOException {
        return SparseFile.create(dir.resolve("source.raw"), SIZE)
                .random(0, 64 * KIB)
                .random(MIB + 12 * KIB, 20 * KIB)
                .random(LONG_EXTENT, PIECE)
                .write(ZERO_PIECE.offset(), new byte[PIECE])
                .random(ZERO_PIECE.end(), MIB)
                .write(ZERO_EXTENT.offset(), new byte[(int) ZERO_EXTENT.length()])
                .random(SIZE - 3000, 3000)
                .synced();
    }

    private List<RecordingSource> sources(Path file, int count) throws IOException {
        List<RecordingSource> sources = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            FileSource source = FileSource.open(file, new LinuxFileExtents());
            opened.add(source);
            sources.add(new RecordingSource(source));
        }
        return sources;
    }

    private List<Extent> dataExtents(Path file) throws IOException {
        try (FileSource source = FileSource.open(file, new LinuxFileExtents())) {
            return source.extents(0, source.size()).stream().filter(Extent::data).toList();
        }
    }

    private static Progress quietProgress() {
        BackupLog log = new BackupLog(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                false, false, SyslogSink.NONE);
        return new Progress(log, "disk vda");
    }

    private static ExtentCopy.Totals runCopy(List<? extends BlockSource> sources, ImageSink sink, boolean zerosMatter,
                                          BooleanSupplier cancelled) throws IOException {
        return new ExtentCopy(cancelled).copy(sources, sink, zerosMatter, quietProgress());
    }

    @ParameterizedTest(name = "{0} sources")
    @ValueSource(ints = {1, 4})
    void everyDataByteLandsAtItsOffsetAndNoHoleIsRead(int connections) throws Exception {
        Path source = sparseSource();
        List<Extent> data = dataExtents(source);
        assertThat(data).as("the source's data extents").hasSize(5).contains(ZERO_EXTENT);
        List<RecordingSource> sources = sources(source, connections);
        Path copy = dir.resolve("copy.raw");

        try (RecordingSink sink = RecordingSink.create(copy)) {
            ExtentCopy.Totals totals = runCopy(sources, sink, false, () -> false);

            assertThat(sink.finishes()).as("finish calls").containsExactly(SIZE);
            long dataBytes = data.stream().mapToLong(Extent::length).sum();
            long zeroBytes = ZERO_PIECE.length() + ZERO_EXTENT.length();
            assertThat(totals).isEqualTo(new ExtentCopy.Totals(dataBytes - zeroBytes, zeroBytes, SIZE - dataBytes));
            assertThat(totals.dataBytes() + totals.zeroBytes() + totals.holeBytes()).isEqualTo(SIZE);
            assertThat(sink.zeroWrites()).as("zero writes when zeros do not matter").isEmpty();
            assertThat(sink.writes()).as("writes").doesNotContain(ZERO_PIECE, ZERO_EXTENT)
                    .extracting(Extent::length).allMatch(length -> length <= PIECE);
        }
        List<Extent> reads = new ArrayList<>();
        sources.forEach(recording -> reads.addAll(recording.reads()));
        assertThat(joined(reads)).as("what was read, joined").isEqualTo(data);
        assertThat(reads.stream().mapToLong(Extent::length).sum()).as("bytes read, each once")
                .isEqualTo(data.stream().mapToLong(Extent::length).sum());
        assertThat(Files.size(copy)).isEqualTo(SIZE);
        assertThat(Files.mismatch(copy, source)).as("copy against source").isEqualTo(-1);
        Leaks.assertNoThreadNamed("virt-backup-copy-");
    }

    @Test
    void zerosInsideDataAreWrittenAsZerosWhenTheyMatter() throws IOException {
        Path source = sparseSource();
        Path copy = dir.resolve("copy.raw");

        try (RecordingSink sink = RecordingSink.create(copy)) {
            ExtentCopy.Totals totals = runCopy(sources(source, 4), sink, true, () -> false);

            assertThat(sink.zeroWrites()).as("zero writes").containsExactlyInAnyOrder(ZERO_PIECE, ZERO_EXTENT);
            assertThat(sink.writes()).as("data writes").doesNotContain(ZERO_PIECE, ZERO_EXTENT)
                    .contains(new Extent(LONG_EXTENT, PIECE, true), new Extent(ZERO_PIECE.end(), MIB, true));
            assertThat(totals.zeroBytes()).isEqualTo(ZERO_PIECE.length() + ZERO_EXTENT.length());
        }
        assertThat(Files.mismatch(copy, source)).as("copy against source").isEqualTo(-1);
    }

    /**
     * A sink that compresses takes whole clusters, each once: the source's extents, which start
     * and end anywhere (a 20 KiB one at 1 MiB + 12 KiB, a file ending 3000 bytes into a cluster),
     * are widened to clusters, and the copy is still the source exactly.
     */
    @Test
    void aSinkOfWholeClustersGetsEachClusterOnceAndTheCopyIsTheSource() throws IOException {
        int cluster = 64 * KIB;
        Path source = sparseSource();
        Path copy = dir.resolve("copy.raw");
        List<Extent> all = new ArrayList<>();

        try (RecordingSink sink = RecordingSink.create(copy, cluster)) {
            runCopy(sources(source, 4), sink, true, () -> false);
            all.addAll(sink.writes());
            all.addAll(sink.zeroWrites());
        }

        assertThat(all).as("writes and zero writes").isNotEmpty().allSatisfy(write -> {
            assertThat(write.offset() % cluster).as("start of " + write).isZero();
            assertThat(write.end() == SIZE || write.end() % cluster == 0).as("end of " + write).isTrue();
        });
        List<Long> clusters = new ArrayList<>();
        for (Extent write : all) {
            for (long at = write.offset(); at < write.end(); at += cluster) {
                clusters.add(at / cluster);
            }
        }
        assertThat(clusters).as("clusters written").doesNotHaveDuplicates()
                .contains((MIB + 12L * KIB) / cluster, (SIZE - 1) / cluster);
        assertThat(Files.mismatch(copy, source)).as("copy against source").isEqualTo(-1);
    }

    @Test
    void widenedExtentsCoverTheSizeAndMergeWhereTheyMeet() {
        List<Extent> extents = List.of(new Extent(0, 100, false), new Extent(100, 10, true),
                new Extent(110, 20, false), new Extent(130, 10, true), new Extent(140, 200, false),
                new Extent(340, 5, true));

        assertThat(ExtentCopy.widen(extents, 64, 345)).containsExactly(new Extent(0, 64, false),
                new Extent(64, 128, true), new Extent(192, 128, false), new Extent(320, 25, true));
        assertThat(ExtentCopy.widen(extents, 1, 345)).as("a sink of bytes").isSameAs(extents);
        assertThat(ExtentCopy.widen(List.of(new Extent(0, 345, false)), 64, 345)).as("no data")
                .containsExactly(new Extent(0, 345, false));
    }

    @Test
    void oneAndFourSourcesGiveTheSameCopy() throws IOException {
        Path source = sparseSource();
        Path one = dir.resolve("one.raw");
        Path four = dir.resolve("four.raw");
        ExtentCopy.Totals byOne;
        ExtentCopy.Totals byFour;
        List<Extent> writesByOne;
        List<Extent> writesByFour;
        try (RecordingSink sink = RecordingSink.create(one)) {
            byOne = runCopy(sources(source, 1), sink, true, () -> false);
            writesByOne = sink.writes();
        }
        try (RecordingSink sink = RecordingSink.create(four)) {
            byFour = runCopy(sources(source, 4), sink, true, () -> false);
            writesByFour = sink.writes();
        }

        assertThat(byFour).isEqualTo(byOne);
        assertThat(writesByFour).as("the same pieces, in any order").containsExactlyInAnyOrderElementsOf(writesByOne);
        assertThat(Files.mismatch(one, four)).isEqualTo(-1);
        assertThat(dataExtents(four)).as("the copy's allocation").isEqualTo(dataExtents(one));
    }

    /**
     * Worker 0's first read fails once the three others are each in a read that, as libnbd's,
     * an interrupt does not end: they finish it, take no other piece, and are done before copy()
     * throws, so that the caller may close the sink at once.
     */
    @Test
    void aFailingReadStopsEveryWorkerAndIsThrownAfterTheReadsInFlight() throws Exception {
        Path source = manyExtents(48);
        List<RecordingSource> real = sources(source, 4);
        CountDownLatch othersReading = new CountDownLatch(3);
        CountDownLatch failed = new CountDownLatch(1);
        IOException failure = new IOException("connection to the export lost");
        List<BlockSource> sources = new ArrayList<>();
        sources.add(new FailingSource(real.get(0), othersReading, failed, failure));
        for (RecordingSource other : real.subList(1, 4)) {
            sources.add(new StallingSource(other, othersReading, failed));
        }
        Path copy = dir.resolve("copy.raw");
        RecordingSink sink = RecordingSink.create(copy);

        try {
            assertThatThrownBy(() -> runCopy(sources, sink, true, () -> false)).isSameAs(failure);
        } finally {
            sink.close();  // as the caller does at once
        }

        Leaks.assertNoThreadNamed("virt-backup-copy-");
        assertThat(sink.callsAfterClose()).as("sink calls after copy() threw and the sink was closed").isEmpty();
        assertThat(sink.finishes()).as("finish calls").isEmpty();
        for (RecordingSource other : real.subList(1, 4)) {
            assertThat(other.reads()).as("reads of a worker after the failure: the one in flight").hasSize(1);
        }
        assertThat(real.get(0).reads()).as("the failing worker's reads").isEmpty();
    }

    @Test
    void aCancelledCopyThrowsAndEachWorkerEndsAfterItsPieceInFlight() throws Exception {
        Path source = manyExtents(48);
        List<RecordingSource> sources = sources(source, 4);
        RecordingSink sink = RecordingSink.create(dir.resolve("copy.raw"));

        try (sink) {
            assertThatThrownBy(() -> runCopy(sources, sink, false, () -> sink.writes().size() >= 3))
                    .isInstanceOf(CopyCancelledException.class);
        }

        Leaks.assertNoThreadNamed("virt-backup-copy-");
        assertThat(sink.finishes()).as("finish calls").isEmpty();
        long reads = sources.stream().mapToLong(recording -> recording.reads().size()).sum();
        assertThat(reads).as("pieces read: 3 before the cancellation, at most one per other worker after")
                .isBetween(3L, 3L + sources.size() - 1);
        assertThat(sink.callsAfterClose()).isEmpty();
    }

    /** {@code count} data extents of 64 KiB, 1 MiB apart: as many pieces at little cost. */
    private Path manyExtents(int count) throws IOException {
        SparseFile file = SparseFile.create(dir.resolve("many.raw"), (long) count * MIB);
        for (int i = 0; i < count; i++) {
            file.random((long) i * MIB, 64 * KIB);
        }
        Path path = file.synced();
        assertThat(dataExtents(path)).hasSize(count);
        return path;
    }

    /** Reads sorted and joined where one ends where the next starts. */
    private static List<Extent> joined(List<Extent> reads) {
        List<Extent> sorted = new ArrayList<>(reads);
        sorted.sort(Comparator.comparingLong(Extent::offset));
        List<Extent> joined = new ArrayList<>();
        for (Extent read : sorted) {
            Extent last = joined.isEmpty() ? null : joined.get(joined.size() - 1);
            if (last != null && last.end() == read.offset()) {
                joined.set(joined.size() - 1, new Extent(last.offset(), last.length() + read.length(), true));
            } else {
                joined.add(read);
            }
        }
        return joined;
    }

    /**
     * A real {@link SparseFileSink} whose calls are recorded, from any thread: writes and zero
     * writes as ranges, finish calls by size, and any call made after it was closed.
     */
    private static final class RecordingSink implements ImageSink {
        private final SparseFileSink file;
        private final List<Extent> writes = Collections.synchronizedList(new ArrayList<>());
        private final List<Extent> zeroWrites = Collections.synchronizedList(new ArrayList<>());
        private final List<Long> finishes = Collections.synchronizedList(new ArrayList<>());
        private final List<String> callsAfterClose = Collections.synchronizedList(new ArrayList<>());
        private final int granularity;
        private volatile boolean closed;

        private RecordingSink(SparseFileSink file, int granularity) {
            this.file = file;
            this.granularity = granularity;
        }

        static RecordingSink create(Path target) throws IOException {
            return create(target, 1);
        }

        /** A sink that says it takes whole units of {@code granularity}, as a compressing one does. */
        static RecordingSink create(Path target, int granularity) throws IOException {
            return new RecordingSink(SparseFileSink.create(target, PosixFilePermissions.fromString("rw-------")),
                    granularity);
        }

        @Override
        public int granularity() {
            return granularity;
        }

        @Override
        public void write(ByteBuffer chunk, long position) throws IOException {
            noteIfClosed("write at " + position);
            writes.add(new Extent(position, chunk.remaining(), true));
            file.write(chunk, position);
        }

        @Override
        public void writeZeros(long position, long length) throws IOException {
            noteIfClosed("writeZeros at " + position);
            zeroWrites.add(new Extent(position, length, true));
            file.writeZeros(position, length);
        }

        @Override
        public void finish(long size) throws IOException {
            noteIfClosed("finish");
            finishes.add(size);
            file.finish(size);
        }

        private void noteIfClosed(String call) {
            if (closed) {
                callsAfterClose.add(call);
            }
        }

        List<Extent> writes() {
            return List.copyOf(writes);
        }

        List<Extent> zeroWrites() {
            return List.copyOf(zeroWrites);
        }

        List<Long> finishes() {
            return List.copyOf(finishes);
        }

        List<String> callsAfterClose() {
            return List.copyOf(callsAfterClose);
        }

        @Override
        public void close() throws IOException {
            closed = true;
            file.close();
        }
    }

    /**
     * A source that waits until the other workers are each in a read, then fails its read
     * without reading, and tells them so.
     */
    private static final class FailingSource extends ForwardingSource {
        private final CountDownLatch othersReading;
        private final CountDownLatch failed;
        private final IOException failure;

        FailingSource(BlockSource source, CountDownLatch othersReading, CountDownLatch failed, IOException failure) {
            super(source);
            this.othersReading = othersReading;
            this.failed = failed;
            this.failure = failure;
        }

        @Override
        public void read(ByteBuffer into, long position) throws IOException {
            try {
                if (!othersReading.await(20, TimeUnit.SECONDS)) {
                    throw new IOException("the other workers never read");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            failed.countDown();
            throw failure;
        }
    }

    /**
     * A source whose reads, like a native call, do not end when the thread is interrupted: each
     * reads its bytes, then answers only once the other worker has failed, 300 ms after it saw that.
     */
    private static final class StallingSource extends ForwardingSource {
        private static final long STALL_NANOS = TimeUnit.MILLISECONDS.toNanos(300);
        private final CountDownLatch othersReading;
        private final CountDownLatch failed;
        private final AtomicLong failedAt = new AtomicLong();

        StallingSource(BlockSource source, CountDownLatch othersReading, CountDownLatch failed) {
            super(source);
            this.othersReading = othersReading;
            this.failed = failed;
        }

        @Override
        public void read(ByteBuffer into, long position) throws IOException {
            super.read(into, position);
            othersReading.countDown();
            boolean interrupted = false;
            while (true) {
                try {
                    if (!failed.await(20, TimeUnit.SECONDS)) {
                        throw new IOException("the failing worker never failed");
                    }
                    failedAt.compareAndSet(0, System.nanoTime());
                    long left = failedAt.get() + STALL_NANOS - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    TimeUnit.NANOSECONDS.sleep(left);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
