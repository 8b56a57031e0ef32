package io.jenkins.plugins.virtbackup.engine.copy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.nio.file.ExtendedOpenOption;
import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.Leaks;
import io.jenkins.plugins.virtbackup.testing.LoopDevice;
import io.jenkins.plugins.virtbackup.testing.SparseFile;
import io.jenkins.plugins.virtbackup.testing.SquashfsMount;
import io.jenkins.plugins.virtbackup.testing.TmpfsMount;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Copies of real files into a backup: the bytes, the holes (only data moves, the copy allocates what
 * its source does), the chunk index beside the copy, and every way a copy must fail.
 */
class DiskCopierTest {
    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final long GIB = 1024L * MIB;
    private static final int BLOCK = 4096;
    private static final Set<PosixFilePermission> MODE = PosixFilePermissions.fromString("rw-------");

    @TempDir
    Path dir;

    private static DiskCopier copier(BooleanSupplier cancelled) {
        return new DiskCopier(cancelled, new LinuxFileExtents(), MODE);
    }

    private static DiskCopier copier() {
        return copier(() -> false);
    }

    @Test
    void copiesContentExactlyWithAnIndexLinePerChunk() throws IOException {
        byte[] data = SparseFile.randomBytes(3 * MIB + 12345, 7);  // not a multiple of the chunk size
        Path source = Files.write(dir.resolve("source.img"), data);
        Path copy = dir.resolve("copy.img");

        FileDigest digest = copier().copy(source, copy, null, null);

        assertThat(Files.readAllBytes(copy)).isEqualTo(data);
        assertThat(Files.getPosixFilePermissions(copy)).isEqualTo(MODE);
        Path index = dir.resolve("copy.img.chunks");
        assertThat(Files.getPosixFilePermissions(index)).isEqualTo(MODE);
        assertThat(Files.readAllLines(index)).as("the index, a line per chunk of the copy")
                .hasSize(4).isEqualTo(IndependentIndex.of(copy));
        assertThat(Files.readString(index)).endsWith("\n");
        assertThat(digest).isEqualTo(new FileDigest(data.length, new ChunkIndex.Ref("copy.img.chunks",
                ChunkIndex.CHUNK_SIZE, 4, 4, IndependentIndex.sha256(Files.readAllBytes(index))), data.length));
    }

    @Test
    void neverWritesIntoAnExistingFile() throws IOException {
        Path source = SparseFile.create(dir.resolve("sparse.raw"), MIB).random(0, 100).path();
        Path existing = Files.writeString(dir.resolve("earlier-backup.raw"), "keep me");

        assertThatThrownBy(() -> copier().copy(source, existing, null, null))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(existing)).isEqualTo("keep me");
        assertThat(dir.resolve("earlier-backup.raw.chunks")).doesNotExist();
    }

    @Test
    void stopsWhenCancelled() throws IOException {
        Path source = SparseFile.create(dir.resolve("sparse.raw"), 64L * MIB).random(0, MIB).random(32 * MIB, MIB)
                .path();
        AtomicInteger polls = new AtomicInteger();

        assertThatThrownBy(() -> copier(() -> polls.incrementAndGet() > 3).copy(source, dir.resolve("c"), null, null))
                .isInstanceOf(CopyCancelledException.class);
        assertThat(polls.get()).isEqualTo(4);
    }

    @Test
    void anEightGibSparseFileIsCopiedAsItsDataAndHolesAllocatingWhatItsSourceDoes() throws IOException {
        long size = 8 * GIB;
        Path source = SparseFile.create(dir.resolve("sparse.raw"), size)
                .random(0, 4 * MIB)
                .random(3 * GIB + 12345, MIB + 5000)  // straddles chunks 3072 and 3073
                .random(size - 3000, 3000)
                .synced();
        Path copy = dir.resolve("copy.raw");

        FileDigest digest = copier().copy(source, copy, null, null);

        assertThat(Files.size(copy)).isEqualTo(size);
        assertThat(Host.allocatedBytes(copy)).as("blocks allocated by the copy")
                .isCloseTo(Host.allocatedBytes(source), Offset.offset(8L * BLOCK));
        List<Extent> sourceData = dataExtents(source);
        assertThat(dataExtents(copy)).as("where the copy holds data").isEqualTo(sourceData);
        for (Extent data : sourceData) {
            assertThat(bytes(copy, data)).as("the copy's data at %d", data.offset()).isEqualTo(bytes(source, data));
        }
        List<String> lines = Files.readAllLines(dir.resolve("copy.raw.chunks"));
        assertThat(lines).hasSize(8192);
        List<Long> dataChunks = List.of(0L, 1L, 2L, 3L, 3072L, 3073L, 8191L);
        for (int chunk = 0; chunk < lines.size(); chunk++) {
            String expected = dataChunks.contains((long) chunk) ? IndependentIndex.line(copy, chunk) : "zero";
            assertThat(lines.get(chunk)).as("chunk %d", chunk).isEqualTo(expected);
        }
        assertThat(digest.chunks().dataChunks()).isEqualTo(7);
        assertThat(copier().readBack(copy, digest)).isEmpty();
    }

    @Test
    void zeroRunsInsideDataBecomeHolesFourKibByFourKib() throws IOException {
        // Like a qcow2 header cluster: a little data, then zeros, within one chunk, all written.
        byte[] data = new byte[4 * MIB + 5000];
        for (int at : new int[] {0, 300 * KIB, MIB - 4096, 2 * MIB + 100, 4 * MIB + 1000}) {
            byte[] some = SparseFile.randomBytes(Math.min(4000, data.length - at), at);
            System.arraycopy(some, 0, data, at, some.length);
        }
        Path source = Files.write(dir.resolve("mixed.img"), data);
        Path copy = dir.resolve("copy.img");

        FileDigest digest = copier().copy(source, copy, null, null);

        assertThat(Files.readAllBytes(copy)).isEqualTo(data);
        assertThat(dataExtents(copy)).as("the copy's data: exactly the 4 KiB blocks holding a byte other than 0")
                .isEqualTo(blocksHoldingData(data));
        // Seven blocks hold data; with whole chunks written the copy would allocate 5 MiB.
        assertThat(Host.allocatedBytes(copy)).as("blocks allocated by the copy").isLessThanOrEqualTo(64 * KIB);
        assertThat(Files.readAllLines(dir.resolve("copy.img.chunks"))).isEqualTo(IndependentIndex.of(source));
        assertThat(digest.chunks().dataChunks()).as("chunks 0, 2 and 4").isEqualTo(3);
    }

    private static List<Extent> blocksHoldingData(byte[] data) {
        List<Extent> runs = new ArrayList<>();
        for (int block = 0; block * BLOCK < data.length; block++) {
            int start = block * BLOCK;
            int end = Math.min(data.length, start + BLOCK);
            boolean zeros = Arrays.equals(data, start, end, new byte[end - start], 0, end - start);
            Extent last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
            if (zeros) {
                continue;
            }
            if (last != null && last.end() == start) {
                runs.set(runs.size() - 1, new Extent(last.offset(), end - last.offset(), true));
            } else {
                runs.add(new Extent(start, end - start, true));
            }
        }
        return runs;
    }

    @Test
    void aTrailingHoleKeepsTheLength() throws IOException {
        long size = 100L * MIB + 123;
        Path sparse = SparseFile.create(dir.resolve("sparse.raw"), size).random(0, 5000).synced();
        byte[] data = new byte[3 * MIB + 5];  // written zeros after 1 MiB of data
        System.arraycopy(SparseFile.randomBytes(MIB, 1), 0, data, 0, MIB);
        Path zeros = Files.write(dir.resolve("zeros.raw"), data);

        copier().copy(sparse, dir.resolve("sparse-copy.raw"), null, null);
        copier().copy(zeros, dir.resolve("zeros-copy.raw"), null, null);

        assertThat(Files.size(dir.resolve("sparse-copy.raw"))).isEqualTo(size);
        try (FileSource copy = FileSource.open(dir.resolve("sparse-copy.raw"), new LinuxFileExtents())) {
            assertThat(copy.extents(0, size)).containsExactly(new Extent(0, 8192, true),
                    new Extent(8192, size - 8192, false));
        }
        assertThat(Files.readAllBytes(dir.resolve("zeros-copy.raw"))).isEqualTo(data);
        assertThat(Host.allocatedBytes(dir.resolve("zeros-copy.raw"))).as("the written zeros became a hole")
                .isLessThanOrEqualTo(MIB + 8L * BLOCK);
        assertThat(Files.readAllLines(dir.resolve("zeros-copy.raw.chunks"))).endsWith("zero", "zero", "zero");
    }

    @Test
    void theFirstChunkHookChangesTheCopyAndTheDigestCoversTheChange() throws IOException {
        byte[] data = SparseFile.randomBytes(2 * MIB + 10, 8);
        Path source = Files.write(dir.resolve("top.qcow2"), data);
        Path copy = dir.resolve("copy.qcow2");
        byte[] name = "vda.backing-1.qcow2".getBytes(StandardCharsets.US_ASCII);
        List<Integer> seen = new ArrayList<>();

        copier().copy(source, copy, null, chunk -> {
            seen.add(chunk.remaining());
            chunk.put(100, name);
        });

        byte[] expected = data.clone();
        System.arraycopy(name, 0, expected, 100, name.length);
        assertThat(seen).as("the hook saw the first chunk, once").containsExactly(MIB);
        assertThat(Files.readAllBytes(copy)).isEqualTo(expected);
        List<String> lines = Files.readAllLines(dir.resolve("copy.qcow2.chunks"));
        assertThat(lines).isEqualTo(IndependentIndex.of(copy));
        assertThat(lines.get(0)).isNotEqualTo(IndependentIndex.line(source, 0));
    }

    @Test
    void theFirstChunkHookChangesAFirstChunkThatIsAHole() throws IOException {
        Path source = SparseFile.create(dir.resolve("late-data.raw"), 3 * MIB).random(2 * MIB, 100).synced();
        Path copy = dir.resolve("copy.raw");
        byte[] mark = "changed".getBytes(StandardCharsets.US_ASCII);

        FileDigest digest = copier().copy(source, copy, null, chunk -> chunk.put(0, mark));

        assertThat(Arrays.copyOf(Files.readAllBytes(copy), mark.length)).isEqualTo(mark);
        assertThat(Files.readAllLines(dir.resolve("copy.raw.chunks"))).isEqualTo(IndependentIndex.of(copy))
                .startsWith(IndependentIndex.line(copy, 0));
        assertThat(digest.chunks().dataChunks()).isEqualTo(2);
    }

    @Test
    void indexingAFileGivesTheIndexItsCopyGets() throws IOException {
        Path source = SparseFile.create(dir.resolve("saved.state"), 9L * MIB + 77)
                .random(0, 2 * MIB).random(5 * MIB + 3, 100).random(9L * MIB, 77).synced();
        FileDigest copied = copier().copy(source, dir.resolve("copy.state"), null, null);

        FileDigest indexed = copier().index(source);

        assertThat(indexed.chunks().file()).isEqualTo("saved.state.chunks");
        assertThat(indexed.chunks().sha256()).isEqualTo(copied.chunks().sha256());
        assertThat(indexed).isEqualTo(new FileDigest(copied.size(), new ChunkIndex.Ref("saved.state.chunks",
                ChunkIndex.CHUNK_SIZE, 10, 4, copied.chunks().sha256()), copied.dataBytes()));
        assertThat(copied.dataBytes()).as("the data extents: 2 MiB and two file system blocks, holes not read")
                .isBetween(2L * MIB + 177, 2L * MIB + 2 * 65536);
        assertThat(Files.readAllLines(dir.resolve("saved.state.chunks"))).isEqualTo(IndependentIndex.of(source));
        assertThatThrownBy(() -> copier().index(source)).as("an index is never overwritten")
                .isInstanceOf(FileAlreadyExistsException.class);
    }

    @Test
    void readingBackAGoodCopyFindsNothingAndStopsWhenCancelled() throws IOException {
        Path source = SparseFile.create(dir.resolve("sparse.raw"), 64L * MIB).random(0, MIB).random(32 * MIB, MIB)
                .synced();
        Path copy = dir.resolve("copy.raw");
        FileDigest digest = copier().copy(source, copy, null, null);
        AtomicInteger polls = new AtomicInteger();

        assertThat(copier().readBack(copy, digest)).isEmpty();
        assertThatThrownBy(() -> copier(() -> polls.incrementAndGet() > 3).readBack(copy, digest))
                .isInstanceOf(CopyCancelledException.class);
        assertThat(polls.get()).isEqualTo(4);
    }

    @Test
    void anEmptyFileIsCopiedWithAnEmptyIndex() throws IOException {
        Path source = Files.createFile(dir.resolve("empty.raw"));
        Path copy = dir.resolve("copy.raw");

        FileDigest digest = copier().copy(source, copy, null, null);

        assertThat(Files.size(copy)).isZero();
        assertThat(Files.readAllBytes(dir.resolve("copy.raw.chunks"))).isEmpty();
        assertThat(digest).isEqualTo(new FileDigest(0, new ChunkIndex.Ref("copy.raw.chunks", ChunkIndex.CHUNK_SIZE,
                0, 0, IndependentIndex.sha256(new byte[0])), 0));
        assertThat(copier().readBack(copy, digest)).isEmpty();
    }

    @Test
    void aFileSystemThatRefusesDirectIoIsCopiedAndReadThroughTheCache() throws IOException {
        Path content = Files.createDirectories(dir.resolve("content"));
        Path original = SparseFile.create(content.resolve("disk.raw"), 64L * MIB + 12345)  // no alignment divides it
                .random(0, MIB).random(32 * MIB + 5, MIB).random(64L * MIB, 12345).synced();
        try (SquashfsMount squashfs = SquashfsMount.of(content, dir)) {
            Path source = squashfs.dir().resolve("disk.raw");
            assertThatThrownBy(() -> FileChannel.open(source, StandardOpenOption.READ, ExtendedOpenOption.DIRECT))
                    .as("premise: squashfs refuses O_DIRECT at open").isInstanceOf(IOException.class);
            Path copy = dir.resolve("copy.raw");

            FileDigest digest = copier().copy(source, copy, null, null);

            assertThat(Files.mismatch(original, copy)).as("first differing byte").isEqualTo(-1);
            assertThat(Files.size(copy)).isEqualTo(64L * MIB + 12345);
            assertThat(Host.allocatedBytes(copy)).as("blocks allocated by the copy").isLessThan(4L * MIB);
            List<String> readBack = new ArrayList<>();
            try (FileSource direct = FileSource.openDirect(source, new LinuxFileExtents())) {
                assertThat(direct.readsDirect()).isFalse();
                new ChunkPipeline(() -> false).run(direct, null,
                        (chunk, sha256) -> readBack.add(sha256 == null ? ChunkIndex.ZERO : sha256), null, null);
            }
            assertThat(readBack).as("read back through the cache")
                    .isEqualTo(Files.readAllLines(dir.resolve("copy.raw.chunks")))
                    .isEqualTo(IndependentIndex.of(original));
            assertThat(digest.chunks().dataChunks()).as("chunks 0, 32, 33 and 64").isEqualTo(4);
        }
    }

    @Test
    void aBlockDeviceIsReadInFullAndItsZerosBecomeHoles() throws IOException {
        Path image = SparseFile.create(dir.resolve("lv.raw"), 16L * MIB)
                .random(0, 5000).write(MIB, new byte[3 * MIB]).random(9L * MIB, 2 * MIB).random(16L * MIB - 10, 10)
                .synced();
        Path copy = dir.resolve("copy.raw");
        FileDigest digest;
        try (LoopDevice loop = LoopDevice.over(image)) {
            digest = copier().copy(loop.device(), copy, null, null);
        }

        assertThat(Files.mismatch(image, copy)).as("first differing byte").isEqualTo(-1);
        assertThat(Host.allocatedBytes(copy)).as("zeros of the device became holes")
                .isLessThanOrEqualTo(2L * MIB + 16 * BLOCK);
        assertThat(Files.readAllLines(dir.resolve("copy.raw.chunks"))).isEqualTo(IndependentIndex.of(image));
        assertThat(digest.chunks().dataChunks()).isEqualTo(4);
    }

    @Test
    void aSourceThatShrinksDuringTheCopyFailsIt() throws IOException {
        Path source = Files.write(dir.resolve("source.img"), SparseFile.randomBytes(3 * MIB, 9));

        assertThatThrownBy(() -> copier(afterFirstChunk(() -> SparseFile.resize(source, MIB + 100)))
                .copy(source, dir.resolve("copy.img"), null, null))
                .isInstanceOf(IOException.class)
                .hasMessage(source + " changed size while it was read: 3145728 bytes when opened, 1048676 bytes now");

        // Where nothing says where data is, the read past the new end fails first.
        SparseFile.resize(source, 3 * MIB);
        assertThatThrownBy(() -> new DiskCopier(afterFirstChunk(() -> SparseFile.resize(source, MIB + 100)),
                FileExtents.ALL_DATA, MODE).copy(source, dir.resolve("copy-all-data.img"), null, null))
                .isInstanceOf(IOException.class)
                .hasMessage(source + " changed size while it was read: 3145728 bytes when opened, 1048676 bytes found");
    }

    @Test
    void aSourceThatGrowsDuringTheCopyFailsIt() throws IOException {
        Path source = Files.write(dir.resolve("source.img"), SparseFile.randomBytes(3 * MIB / 2, 10));

        assertThatThrownBy(() -> copier(afterFirstChunk(() -> SparseFile.resize(source, 4L * MIB)))
                .copy(source, dir.resolve("copy.img"), null, null))
                .isInstanceOf(IOException.class)
                .hasMessage(source + " changed size while it was read: 1572864 bytes when opened, 4194304 bytes now");
    }

    @Test
    void aFullTargetFailsTheCopyAndLeavesNoHasherRunning() throws IOException, InterruptedException {
        Path source = Files.write(dir.resolve("source.img"), SparseFile.randomBytes(8 * MIB, 11));
        try (TmpfsMount small = TmpfsMount.mount(dir.resolve("small"), "size=2m")) {
            assertThatThrownBy(() -> copier().copy(source, small.dir().resolve("copy.img"), null, null))
                    .isInstanceOf(IOException.class).hasMessageContaining("No space left on device");
        }
        Leaks.assertNoThreadNamed("virt-backup-hash");
    }

    @Test
    void copiesThatFailLeaveNoFileOpen() throws IOException, InterruptedException {
        Path source = SparseFile.create(dir.resolve("sparse.raw"), 4L * MIB + 100).random(0, MIB).synced();
        Path existing = Files.writeString(dir.resolve("existing.raw"), "keep me");
        FileDigest good = copier().copy(source, dir.resolve("good.raw"), null, null);
        failInEveryWay(source, existing, good, 0);
        long before = Leaks.openFileCount();

        for (int round = 1; round <= 20; round++) {
            failInEveryWay(source, existing, good, round);
        }

        assertThat(Leaks.openFileCount()).as("files open after 20 rounds, %d before", before)
                .isLessThanOrEqualTo(before + 2);
        Leaks.assertNoThreadNamed("virt-backup-hash");
    }

    private void failInEveryWay(Path source, Path existing, FileDigest good, int round) throws IOException {
        assertThatThrownBy(() -> copier().copy(source, existing, null, null))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThatThrownBy(() -> copier(() -> true).copy(source, dir.resolve("cancelled-" + round), null, null))
                .isInstanceOf(CopyCancelledException.class);
        assertThatThrownBy(() -> copier(afterFirstChunk(() -> SparseFile.resize(source, 2L * MIB)))
                .copy(source, dir.resolve("shrunk-" + round), null, null)).hasMessageContaining("changed size");
        SparseFile.resize(source, 4L * MIB + 100);
        assertThatThrownBy(() -> copier(() -> false).copy(source, dir.resolve("hooked-" + round), null, chunk -> {
            throw new IOException("bad header");
        })).hasMessage("bad header");
        assertThatThrownBy(() -> copier().index(dir.resolve("missing.raw"))).isInstanceOf(IOException.class);
        assertThat(copier().readBack(dir.resolve("missing.raw"), good)).isNotEmpty();
    }

    /** A cancellation poll that does {@code action} once, after the first chunk was read, and never cancels. */
    private static BooleanSupplier afterFirstChunk(IoAction action) {
        AtomicInteger polls = new AtomicInteger();
        return () -> {
            if (polls.incrementAndGet() == 2) {
                try {
                    action.run();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return false;
        };
    }

    @FunctionalInterface
    private interface IoAction {
        void run() throws IOException;
    }

    private static List<Extent> dataExtents(Path file) throws IOException {
        try (FileSource source = FileSource.open(file, new LinuxFileExtents())) {
            return source.extents(0, source.size()).stream().filter(Extent::data).toList();
        }
    }

    private static byte[] bytes(Path file, Extent extent) throws IOException {
        ByteBuffer into = ByteBuffer.allocate((int) extent.length());
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            while (into.hasRemaining()) {
                if (channel.read(into, extent.offset() + into.position()) < 0) {
                    throw new IOException(file + " ends before " + extent.end());
                }
            }
        }
        return into.array();
    }
}
