package io.jenkins.plugins.virtbackup.engine.copy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.nio.file.ExtendedOpenOption;
import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import io.jenkins.plugins.virtbackup.testing.Leaks;
import io.jenkins.plugins.virtbackup.testing.LoopDevice;
import io.jenkins.plugins.virtbackup.testing.SparseFile;
import io.jenkins.plugins.virtbackup.testing.SquashfsMount;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file as the copy and the verification read it: where its data is (holes never read), positional
 * reads, direct reads where the file system allows them, and a source that changes size.
 */
class FileSourceTest {
    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final int BLOCK = 4096;

    @TempDir
    Path dir;

    /** A file of holes and random data with, beside it, its bytes in memory and its data runs. */
    private record Layout(Path file, byte[] bytes, List<Extent> dataRuns) {
    }

    /**
     * Writes runs of random data at random places of a sparse file. The file system keeps data in
     * whole 4 KiB blocks, so each run's data extent is its blocks, the last one cut at the end.
     */
    private Layout randomLayout(long seed, int size, int writes) throws IOException {
        assertThat(Files.getFileStore(dir).getBlockSize()).as("premise: 4 KiB blocks").isEqualTo(BLOCK);
        byte[] bytes = new byte[size];
        SparseFile sparse = SparseFile.create(dir.resolve("layout-" + seed + ".raw"), size);
        Random random = new Random(seed);
        List<Extent> blocks = new ArrayList<>();
        for (int write = 0; write < writes; write++) {
            int offset = random.nextInt(size - 1);
            int length = 1 + random.nextInt(Math.min(300 * KIB, size - offset));
            byte[] data = SparseFile.randomBytes(length, seed * 1000 + write);
            sparse.write(offset, data);
            System.arraycopy(data, 0, bytes, offset, length);
            long start = offset / BLOCK * BLOCK;
            long end = Math.min(size, ((long) offset + length + BLOCK - 1) / BLOCK * BLOCK);
            blocks.add(new Extent(start, end - start, true));
        }
        return new Layout(sparse.synced(), bytes, merged(blocks));
    }

    private static List<Extent> merged(List<Extent> runs) {
        List<Extent> sorted = new ArrayList<>(runs);
        sorted.sort(Comparator.comparingLong(Extent::offset));
        List<Extent> merged = new ArrayList<>();
        for (Extent run : sorted) {
            Extent last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && run.offset() <= last.end()) {
                merged.set(merged.size() - 1,
                        new Extent(last.offset(), Math.max(last.end(), run.end()) - last.offset(), true));
            } else {
                merged.add(run);
            }
        }
        return merged;
    }

    /** What {@code extents(from, to)} must answer: the data runs cut to the range, holes between. */
    private static List<Extent> expectedExtents(List<Extent> dataRuns, long from, long to) {
        List<Extent> expected = new ArrayList<>();
        long at = from;
        for (Extent run : dataRuns) {
            long start = Math.max(run.offset(), at);
            long end = Math.min(run.end(), to);
            if (start >= end) {
                continue;
            }
            if (start > at) {
                expected.add(new Extent(at, start - at, false));
            }
            expected.add(new Extent(start, end - start, true));
            at = end;
        }
        if (at < to) {
            expected.add(new Extent(at, to - at, false));
        }
        return expected;
    }

    @Test
    void extentsCoverTheRangeAskedExactlyAlternatingDataAndHoles() throws IOException {
        Layout layout = randomLayout(5, 48 * MIB + 777, 40);
        long size = layout.bytes().length;
        List<long[]> ranges = new ArrayList<>();
        for (long chunk = 0; chunk * MIB < size; chunk++) {
            ranges.add(new long[] {chunk * MIB, Math.min(size, (chunk + 1) * MIB)});
        }
        Random random = new Random(9);
        for (int i = 0; i < 200; i++) {
            long a = random.nextLong(size + 1);
            long b = random.nextLong(size + 1);
            ranges.add(new long[] {Math.min(a, b), Math.max(a, b)});
        }
        ranges.add(new long[] {0, size});
        ranges.add(new long[] {size - 1, size});

        try (FileSource source = FileSource.open(layout.file(), new LinuxFileExtents())) {
            assertThat(source.size()).isEqualTo(size);
            for (long[] range : ranges) {
                List<Extent> extents = source.extents(range[0], range[1]);

                assertThat(extents).as("extents of [%d, %d)", range[0], range[1])
                        .isEqualTo(expectedExtents(layout.dataRuns(), range[0], range[1]));
                assertCoveredExactlyAlternating(extents, range[0], range[1]);
            }
        }
    }

    private static void assertCoveredExactlyAlternating(List<Extent> extents, long from, long to) {
        if (from == to) {
            assertThat(extents).isEmpty();
            return;
        }
        assertThat(extents.get(0).offset()).isEqualTo(from);
        assertThat(extents.get(extents.size() - 1).end()).isEqualTo(to);
        for (int i = 0; i < extents.size(); i++) {
            assertThat(extents.get(i).length()).isPositive();
            if (i > 0) {
                assertThat(extents.get(i).offset()).isEqualTo(extents.get(i - 1).end());
                assertThat(extents.get(i).data()).isNotEqualTo(extents.get(i - 1).data());
            }
        }
    }

    @Test
    void dataExtentsReadAsWrittenAndHolesHoldOnlyZeros() throws IOException {
        Layout layout = randomLayout(6, 24 * MIB + 3, 25);
        byte[] bytes = layout.bytes();

        try (FileSource source = FileSource.open(layout.file(), new LinuxFileExtents())) {
            long holeBytes = 0;
            for (Extent extent : source.extents(0, bytes.length)) {
                byte[] expected = Arrays.copyOfRange(bytes, (int) extent.offset(), (int) extent.end());
                if (extent.data()) {
                    ByteBuffer read = ByteBuffer.allocate((int) extent.length());
                    source.read(read, extent.offset());
                    assertThat(read.array()).as("data at %d", extent.offset()).isEqualTo(expected);
                } else {
                    assertThat(expected).as("hole at %d", extent.offset()).containsOnly((byte) 0);
                    holeBytes += extent.length();
                }
            }
            assertThat(holeBytes).as("premise: the layout has holes").isGreaterThan(4L * MIB);
        }
    }

    @Test
    void withoutExtentsEveryByteIsData() throws IOException {
        Path file = SparseFile.create(dir.resolve("sparse.raw"), 8 * MIB + 5).random(MIB, 100).synced();

        try (FileSource source = FileSource.open(file, FileExtents.ALL_DATA)) {
            assertThat(source.extents(0, 8 * MIB + 5)).containsExactly(new Extent(0, 8 * MIB + 5, true));
            assertThat(source.extents(MIB, 2 * MIB)).containsExactly(new Extent(MIB, MIB, true));
        }
    }

    @Test
    void aBlockDeviceIsAllDataOfTheDevicesSize() throws IOException {
        Path image = SparseFile.create(dir.resolve("device.img"), 16 * MIB)
                .random(3 * MIB, 5000).random(9 * MIB, 2 * MIB).synced();
        byte[] bytes = Files.readAllBytes(image);
        try (LoopDevice loop = LoopDevice.over(image);
             FileSource source = FileSource.open(loop.device(), new LinuxFileExtents())) {
            assertThat(source.size()).isEqualTo(16 * MIB);
            assertThat(source.extents(0, 16 * MIB)).as("a block device has no holes to skip")
                    .containsExactly(new Extent(0, 16 * MIB, true));
            assertThat(source.extents(3 * MIB, 4 * MIB)).containsExactly(new Extent(3 * MIB, MIB, true));
            ByteBuffer read = ByteBuffer.allocate(16 * MIB);
            source.read(read, 0);
            assertThat(read.array()).isEqualTo(bytes);
        }
        // LVM names its volumes by links to the device (/dev/VG/LV -> ../dm-N): the same through one.
        try (LoopDevice loop = LoopDevice.over(image);
             FileSource source = FileSource.open(Files.createSymbolicLink(dir.resolve("lv"), loop.device()),
                     new LinuxFileExtents())) {
            assertThat(source.extents(0, 16 * MIB)).containsExactly(new Extent(0, 16 * MIB, true));
        }
    }

    @Test
    void readsDirectWhereTheFileSystemAllowsItAndThroughTheCacheOtherwise() throws IOException {
        byte[] data = SparseFile.randomBytes(3 * MIB + 12345, 1);
        Path file = Files.write(dir.resolve("source.img"), data);

        try (FileSource direct = FileSource.openDirect(file, new LinuxFileExtents())) {
            assertThat(direct.readsDirect()).as("premise: this file system accepts O_DIRECT").isTrue();
            ByteBuffer aligned = alignedBuffer(MIB);
            direct.read(aligned, MIB);
            assertThat(direct.readsDirect()).as("after an aligned read").isTrue();
            assertThat(bytesOf(aligned.flip())).isEqualTo(Arrays.copyOfRange(data, MIB, 2 * MIB));

            ByteBuffer tail = alignedBuffer(2 * MIB).limit(MIB + 12345);
            direct.read(tail, 2 * MIB);  // length no alignment divides: read through the cache
            assertThat(bytesOf(tail.flip())).isEqualTo(Arrays.copyOfRange(data, 2 * MIB, data.length));
            assertThat(direct.readsDirect()).as("an unaligned read is not a refusal").isTrue();
        }
        try (FileSource cached = FileSource.open(file, new LinuxFileExtents())) {
            assertThat(cached.readsDirect()).as("a copy reads through the cache").isFalse();
        }
    }

    @Test
    void aFileSystemThatRefusesDirectIoIsReadThroughTheCache() throws IOException {
        Path content = Files.createDirectories(dir.resolve("content"));
        Layout layout = randomLayout(7, 6 * MIB + 12345, 8);
        Files.move(layout.file(), content.resolve("disk.raw"));
        try (SquashfsMount squashfs = SquashfsMount.of(content, dir)) {
            Path file = squashfs.dir().resolve("disk.raw");
            assertThatThrownBy(() -> FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT))
                    .as("premise: squashfs refuses O_DIRECT at open").isInstanceOf(IOException.class);

            try (FileSource source = FileSource.openDirect(file, new LinuxFileExtents())) {
                assertThat(source.readsDirect()).isFalse();
                ByteBuffer all = alignedBuffer(layout.bytes().length);
                source.read(all, 0);
                assertThat(bytesOf(all.flip())).isEqualTo(layout.bytes());
            }
        }
    }

    @Test
    void aDirectReadRefusedForItsAlignmentGoesOnThroughTheCacheFromTheSamePlace() throws IOException {
        byte[] data = SparseFile.randomBytes(3 * MIB + 12345, 2);
        Path file = Files.write(dir.resolve("source.img"), data);
        assertThat(Files.getFileStore(file).getBlockSize())
                .as("premise: Java wants direct reads here aligned to more than 512 bytes").isGreaterThan(512);
        FileSource.ReadAlignment tooSmall = f -> 512;

        try (FileSource source = FileSource.open(file, new LinuxFileExtents(), true, tooSmall)) {
            assertThat(source.readsDirect()).as("premise: this file system accepts O_DIRECT").isTrue();
            ByteBuffer first = alignedBuffer(MIB);
            source.read(first, 0);
            assertThat(source.readsDirect()).as("aligned for Java too: read direct").isTrue();

            // Aligned to 512 bytes, as the seam says, but not to the 4 KiB Java checks: refused.
            ByteBuffer second = alignedBuffer(MIB + 512).position(512).slice();
            source.read(second, MIB + 512);
            assertThat(source.readsDirect()).as("reads direct after a refused read").isFalse();

            ByteBuffer rest = alignedBuffer(data.length - 2 * MIB - 512);
            source.read(rest, 2 * MIB + 512);
            assertThat(concat(first.flip(), second.flip(), rest.flip()))
                    .isEqualTo(concat(ByteBuffer.wrap(data, 0, MIB), ByteBuffer.wrap(data, MIB + 512, data.length
                            - MIB - 512)));
        }
    }

    @Test
    void anAlignmentThatCannotBeKnownOrUsedMeansNoDirectReads() throws IOException {
        byte[] data = SparseFile.randomBytes(2 * MIB, 3);
        Path file = Files.write(dir.resolve("source.img"), data);
        List<FileSource.ReadAlignment> unusable = List.of(f -> {
            throw new IOException("no file store");
        }, f -> 3000, f -> 0);

        for (FileSource.ReadAlignment alignment : unusable) {
            try (FileSource source = FileSource.open(file, new LinuxFileExtents(), true, alignment)) {
                assertThat(source.readsDirect()).isFalse();
                ByteBuffer all = alignedBuffer(2 * MIB);
                source.read(all, 0);
                assertThat(bytesOf(all.flip())).isEqualTo(data);
            }
        }
    }

    @Test
    void aShortDirectReadIsNotTheEndOfTheFile() throws IOException {
        byte[] data = SparseFile.randomBytes(3 * MIB, 4);
        Path file = Files.write(dir.resolve("source.img"), data);

        try (FileSource source = FileSource.openDirect(file, new LinuxFileExtents())) {
            assertThat(source.readsDirect()).as("premise: this file system accepts O_DIRECT").isTrue();
            ByteBuffer first = alignedBuffer(MIB);
            source.read(first, 0);
            // For a moment the file ends 100 bytes into the next MiB: the direct read there comes
            // back short, as reads on some file systems do mid-file, and the rest is read through
            // the cache, which finds the end: that, not the short read, fails the read.
            SparseFile.resize(file, MIB + 100);
            ByteBuffer second = alignedBuffer(MIB);
            assertThatThrownBy(() -> source.read(second, MIB)).isInstanceOf(IOException.class)
                    .hasMessage(file + " changed size while it was read: 3145728 bytes when opened, 1048676 bytes found");
            assertThat(second.position()).as("bytes read before the end").isEqualTo(100);
            assertThat(source.readsDirect()).as("a short read is not a refusal").isTrue();

            try (FileChannel restore = FileChannel.open(file, StandardOpenOption.WRITE)) {
                restore.write(ByteBuffer.wrap(data, MIB + 100, 2 * MIB - 100), MIB + 100);
            }
            source.read(second, MIB + 100);  // goes on from the short read's end, unaligned: the cache
            ByteBuffer third = alignedBuffer(MIB);
            source.read(third, 2 * MIB);
            assertThat(source.readsDirect()).as("aligned again: direct").isTrue();

            assertThat(concat(first.flip(), second.flip(), third.flip())).as("no byte read twice or skipped")
                    .isEqualTo(data);
        }
    }

    @Test
    void aSourceThatShrinksFailsItsReadsAndItsSizeCheck() throws IOException {
        Path file = Files.write(dir.resolve("source.img"), SparseFile.randomBytes(3 * MIB, 5));

        try (FileSource source = FileSource.open(file, new LinuxFileExtents())) {
            source.checkSizeUnchanged();
            SparseFile.resize(file, MIB + 100);

            assertThatThrownBy(() -> source.read(ByteBuffer.allocate(MIB), 2 * MIB)).isInstanceOf(IOException.class)
                    .hasMessage(file + " changed size while it was read: 3145728 bytes when opened, 2097152 bytes found");
            assertThatThrownBy(source::checkSizeUnchanged).isInstanceOf(IOException.class)
                    .hasMessage(file + " changed size while it was read: 3145728 bytes when opened, 1048676 bytes now");
        }
    }

    @Test
    void aSourceThatGrowsFailsItsSizeCheck() throws IOException {
        Path file = Files.write(dir.resolve("source.img"), SparseFile.randomBytes(3 * MIB / 2, 6));

        try (FileSource source = FileSource.open(file, new LinuxFileExtents())) {
            SparseFile.resize(file, 4L * MIB);

            assertThat(source.size()).as("the size when opened").isEqualTo(3 * MIB / 2);
            assertThat(source.extents(0, 4L * MIB)).as("nothing past the size when opened")
                    .containsExactly(new Extent(0, 3 * MIB / 2, true));
            assertThatThrownBy(source::checkSizeUnchanged).isInstanceOf(IOException.class)
                    .hasMessage(file + " changed size while it was read: 1572864 bytes when opened, 4194304 bytes now");
        }
    }

    @Test
    void closingOrFailingToOpenLeavesNoFileOpen() throws IOException {
        Path file = SparseFile.create(dir.resolve("sparse.raw"), 4 * MIB).random(MIB, 5000).synced();
        FileExtents failing = f -> {
            throw new IOException("no extents");
        };
        openInEveryWay(file, failing);
        long before = Leaks.openFileCount();

        for (int round = 0; round < 20; round++) {
            openInEveryWay(file, failing);
        }

        assertThat(Leaks.openFileCount()).as("files open after 20 rounds, %d before", before)
                .isLessThanOrEqualTo(before + 2);
    }

    private static void openInEveryWay(Path file, FileExtents failing) throws IOException {
        try (FileSource source = FileSource.openDirect(file, new LinuxFileExtents())) {
            source.read(alignedBuffer(MIB), MIB);
        }
        FileSource closed = FileSource.open(file, new LinuxFileExtents());
        closed.close();
        assertThatThrownBy(() -> closed.read(ByteBuffer.allocate(10), 0)).isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(() -> closed.extents(0, 10)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> FileSource.openDirect(file, failing)).hasMessage("no extents");
        assertThatThrownBy(() -> FileSource.open(file.resolveSibling("missing"), new LinuxFileExtents()))
                .isInstanceOf(IOException.class);
    }

    /** A direct buffer at a 4 KiB boundary of memory, as the pipeline's are. */
    private static ByteBuffer alignedBuffer(int length) {
        // alignedSlice cuts both ends to the alignment: room for a block lost at either end.
        return ByteBuffer.allocateDirect(length + 2 * BLOCK).alignedSlice(BLOCK).limit(length).slice();
    }

    private static byte[] bytesOf(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    private static byte[] concat(ByteBuffer... parts) {
        int length = Arrays.stream(parts).mapToInt(ByteBuffer::remaining).sum();
        ByteBuffer all = ByteBuffer.allocate(length);
        for (ByteBuffer part : parts) {
            all.put(part.duplicate());
        }
        return all.array();
    }
}
