package io.jenkins.plugins.virtbackup.engine.copy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import io.jenkins.plugins.virtbackup.testing.RecordingSource;
import io.jenkins.plugins.virtbackup.testing.Leaks;
import io.jenkins.plugins.virtbackup.testing.SparseFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline that reads a source's data, hashes it on several threads and writes it: what it
 * reads (only data), what it lists (one entry per chunk, in order, the same on any number of
 * threads), and how it stops (cancelled, or a failing write, with no hashing thread left).
 */
class ChunkPipelineTest {
    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final long GIB = 1024L * MIB;
    private static final String HASHERS = "virt-backup-hash";

    @TempDir
    Path dir;

    @AfterEach
    void noHasherLeftRunning() throws InterruptedException {
        Leaks.assertNoThreadNamed(HASHERS);
    }

    @Test
    void readsOnlyTheDataOfAnEightGibSparseFile() throws IOException {
        long size = 8 * GIB;
        Path file = SparseFile.create(dir.resolve("sparse.raw"), size)
                .random(0, 4 * MIB)
                .random(3 * GIB + 12345, MIB + 5000)  // straddles chunks 3072 and 3073
                .random(size - 3000, 3000)
                .synced();
        List<String> entries = new ArrayList<>();

        ChunkPipeline.Totals totals;
        List<Extent> dataExtents;
        try (FileSource fileSource = FileSource.open(file, new LinuxFileExtents());
             RecordingSource source = new RecordingSource(fileSource)) {
            dataExtents = fileSource.extents(0, size).stream().filter(Extent::data).toList();
            totals = new ChunkPipeline(() -> false, 2).run(source, null, inOrder(entries), null, null);

            long dataBytes = dataExtents.stream().mapToLong(Extent::length).sum();
            assertThat(dataBytes).as("premise: a few MiB of data").isBetween(5L * MIB, 7L * MIB);
            assertThat(totals).isEqualTo(new ChunkPipeline.Totals(size, dataBytes));
            assertThat(source.bytesRead()).as("bytes read").isEqualTo(dataBytes);
            assertThat(source.reads()).as("every read lies inside data")
                    .allMatch(read -> dataExtents.stream().anyMatch(data -> inside(read, data)));
        }

        assertThat(entries).hasSize(8192);
        List<Long> dataChunks = List.of(0L, 1L, 2L, 3L, 3072L, 3073L, 8191L);
        for (int chunk = 0; chunk < entries.size(); chunk++) {
            String expected = dataChunks.contains((long) chunk) ? IndependentIndex.line(file, chunk) : "zero";
            assertThat(entries.get(chunk)).as("chunk %d", chunk).isEqualTo(expected);
        }
    }

    @Test
    void aChunkOfWrittenZerosIsListedAsZerosAndNeverWritten() throws IOException {
        Path file = SparseFile.create(dir.resolve("zeros.raw"), 4 * MIB)
                .random(0, 100)
                .write(MIB, new byte[MIB])           // chunk 1: written zeros, data to the file system
                .write(2 * MIB, new byte[MIB / 2])   // chunk 2: half written zeros, half hole
                .random(3 * MIB + 7, 10)
                .synced();
        List<String> entries = new ArrayList<>();
        Path copy = dir.resolve("copy.raw");

        try (FileSource source = FileSource.open(file, new LinuxFileExtents());
             RecordingSink sink = new RecordingSink(SparseFileSink.create(copy, PosixFilePermissions.fromString(
                     "rw-------")), chunk -> false, -1)) {
            assertThat(source.extents(MIB, 2 * MIB)).as("premise: written zeros are data")
                    .containsExactly(new Extent(MIB, MIB, true));
            new ChunkPipeline(() -> false, 2).run(source, sink, inOrder(entries), null, null);

            assertThat(sink.written).as("positions written").containsExactlyInAnyOrder(0L, 3L * MIB);
        }
        assertThat(entries).containsExactlyElementsOf(IndependentIndex.of(file));
        assertThat(entries.subList(1, 3)).containsOnly("zero");
    }

    @Test
    void manyThreadsListTheSameEntriesInTheSameOrderAsOne() throws IOException {
        Path file = manyChunks(64);
        List<String> alone = new ArrayList<>();
        List<String> together = new ArrayList<>();
        Queue<Long> finished = new ConcurrentLinkedQueue<>();

        try (FileSource source = FileSource.open(file, new LinuxFileExtents())) {
            new ChunkPipeline(() -> false, 1).run(source, null, inOrder(alone), null, null);
        }
        // Every third chunk is slow to write, so that later chunks finish first on several threads.
        try (FileSource source = FileSource.open(file, new LinuxFileExtents());
             RecordingSink sink = new RecordingSink(SparseFileSink.create(dir.resolve("copy.raw"),
                     PosixFilePermissions.fromString("rw-------")), position -> position / MIB % 3 == 0, -1)) {
            new ChunkPipeline(() -> false, 6).run(source, sink, inOrder(together), null, null);
            finished.addAll(sink.written);
        }

        assertThat(finished).as("premise: chunks finished out of order").isNotEqualTo(finished.stream().sorted().toList());
        assertThat(together).isEqualTo(alone).isEqualTo(IndependentIndex.of(file));
        assertThat(alone).as("premise: data and zero chunks").contains("zero").anyMatch(line -> line.length() == 64);
    }

    /** {@code chunks} MiB and a bit: data, holes, written zeros and chunks that mix them. */
    private Path manyChunks(int chunks) throws IOException {
        SparseFile sparse = SparseFile.create(dir.resolve("many.raw"), (long) chunks * MIB + 4321);
        for (int chunk = 0; chunk < chunks; chunk++) {
            long start = (long) chunk * MIB;
            switch (chunk % 5) {
                case 0 -> sparse.random(start, MIB);
                case 1 -> sparse.random(start + 8192, 3000).random(start + MIB / 2, 40_000);
                case 2 -> sparse.write(start, new byte[64 * KIB]);
                case 3 -> sparse.random(start + MIB - 10, 20);  // across into the next chunk
                default -> { }  // a hole
            }
        }
        return sparse.random((long) chunks * MIB, 4321).synced();
    }

    @Test
    void aFailingWriteFailsTheRunAndNothingIsWrittenAfterIt() throws IOException, InterruptedException {
        Path file = manyChunks(32);
        AtomicBoolean returned = new AtomicBoolean();
        AtomicInteger writesAfterReturn = new AtomicInteger();

        try (FileSource source = FileSource.open(file, new LinuxFileExtents());
             RecordingSink sink = new RecordingSink(SparseFileSink.create(dir.resolve("copy.raw"),
                     PosixFilePermissions.fromString("rw-------")), position -> true, 10L * MIB) {
                 @Override
                 public void write(ByteBuffer chunk, long position) throws IOException {
                     super.write(chunk, position);
                     if (returned.get()) {
                         writesAfterReturn.incrementAndGet();
                     }
                 }
             }) {
            assertThatThrownBy(() -> new ChunkPipeline(() -> false, 4).run(source, sink, (chunk, line) -> { }, null,
                    null)).isInstanceOf(IOException.class).hasMessage("no space left at 10485760");
            returned.set(true);
            Thread.sleep(200);
        }

        assertThat(writesAfterReturn.get()).as("writes after the run returned").isZero();
        Leaks.assertNoThreadNamed(HASHERS);
    }

    @Test
    void stopsWhenCancelledAskingOncePerChunk() throws IOException {
        Path file = SparseFile.create(dir.resolve("sparse.raw"), 64L * MIB).random(0, MIB).synced();
        AtomicInteger polls = new AtomicInteger();
        List<String> entries = new ArrayList<>();

        try (FileSource source = FileSource.open(file, new LinuxFileExtents())) {
            assertThatThrownBy(() -> new ChunkPipeline(() -> polls.incrementAndGet() > 3, 2)
                    .run(source, null, inOrder(entries), null, null))
                    .isInstanceOf(CopyCancelledException.class).hasMessage("reading " + file + " cancelled");
        }
        assertThat(polls.get()).isEqualTo(4);
        assertThat(entries).as("entries of the chunks done").hasSizeLessThanOrEqualTo(3);
    }

    @Test
    void anInterruptStopsTheRunAsCancelledAndStaysSet() throws IOException {
        Path file = SparseFile.create(dir.resolve("data.raw"), 8L * MIB).random(0, 8 * MIB).synced();

        try (FileSource source = FileSource.open(file, new LinuxFileExtents())) {
            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> new ChunkPipeline(() -> false, 2).run(source, null, (chunk, line) -> { },
                    null, null))
                    .isInstanceOf(CopyCancelledException.class).hasMessage("reading " + file + " interrupted");
            assertThat(Thread.interrupted()).as("the interrupt is kept for the caller").isTrue();
        }
    }

    @Test
    void anEmptySourceHasNoChunks() throws IOException {
        Path file = SparseFile.create(dir.resolve("empty.raw"), 0).synced();
        List<String> entries = new ArrayList<>();

        try (FileSource source = FileSource.open(file, new LinuxFileExtents())) {
            assertThat(new ChunkPipeline(() -> false, 2).run(source, null, inOrder(entries), null, null))
                    .isEqualTo(new ChunkPipeline.Totals(0, 0));
        }
        assertThat(entries).isEmpty();
    }

    /** Collects entries as index lines, failing unless they arrive numbered 0, 1, 2... */
    private static ChunkIndex.Entries inOrder(List<String> lines) {
        return (chunk, sha256) -> {
            assertThat(chunk).as("the chunk number of the next entry").isEqualTo(lines.size());
            lines.add(sha256 == null ? ChunkIndex.ZERO : sha256);
        };
    }

    private static boolean inside(Extent part, Extent whole) {
        return part.offset() >= whole.offset() && part.end() <= whole.end();
    }

    /**
     * Passes writes on to a real sink and remembers where each finished; slow (20 ms) for the
     * chunks {@code slow} picks, and failing like a full disk at {@code failAt} (-1: never).
     */
    private static class RecordingSink implements ImageSink {
        private final ImageSink sink;
        private final LongPredicate slow;
        private final long failAt;
        final Queue<Long> written = new ConcurrentLinkedQueue<>();

        RecordingSink(ImageSink sink, LongPredicate slow, long failAt) {
            this.sink = sink;
            this.slow = slow;
            this.failAt = failAt;
        }

        @Override
        public void write(ByteBuffer chunk, long position) throws IOException {
            if (position == failAt) {
                throw new IOException("no space left at " + position);
            }
            if (slow.test(position)) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException(e);
                }
            }
            sink.write(chunk, position);
            written.add(position);
        }

        @Override
        public void finish(long size) throws IOException {
            sink.finish(size);
        }

        @Override
        public void close() throws IOException {
            sink.close();
        }
    }
}
