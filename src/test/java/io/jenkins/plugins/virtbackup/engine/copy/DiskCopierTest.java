package io.jenkins.plugins.virtbackup.engine.copy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.nio.file.ExtendedOpenOption;
import io.jenkins.plugins.virtbackup.engine.copy.DiskCopier.BlockReader;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.HostRequirement;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskCopierTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void copiesContentExactlyAndReportsItsChecksum() throws IOException {
        Path source = dir.resolve("source.img");
        byte[] data = new byte[3 * MIB + 12345];  // not a multiple of the block size
        new Random(7).nextBytes(data);
        Files.write(source, data);

        FileDigest digest = new DiskCopier(() -> false).copy(source, dir.resolve("copy.img"));

        assertThat(Files.readAllBytes(dir.resolve("copy.img"))).isEqualTo(data);
        assertThat(digest.size()).isEqualTo(data.length);
        assertThat(digest.sha256()).isEqualTo(Trees.sha256(source));
    }

    @Test
    void holesStayHolesAndTrailingHolesKeepTheLength() throws IOException {
        Path source = sparseFile(dir.resolve("sparse.raw"), 512L * MIB);
        Path copy = dir.resolve("copy.raw");

        FileDigest digest = new DiskCopier(() -> false).copy(source, copy);

        assertThat(Files.size(copy)).isEqualTo(512L * MIB);
        assertThat(Host.allocatedBytes(copy)).as("blocks allocated by the copy").isLessThan(4L * MIB);
        assertThat(digest.sha256()).isEqualTo(Trees.sha256(source)).isEqualTo(Trees.sha256(copy));
    }

    @Test
    void rereadsTheSameDigest() throws IOException {
        Path source = sparseFile(dir.resolve("sparse.raw"), 8L * MIB);
        DiskCopier copier = new DiskCopier(() -> false);
        FileDigest written = copier.copy(source, dir.resolve("copy.raw"));
        assertThat(copier.digest(dir.resolve("copy.raw"))).isEqualTo(written);
    }

    @Test
    void neverWritesIntoAnExistingFile() throws IOException {
        Path source = sparseFile(dir.resolve("sparse.raw"), MIB);
        Path existing = Files.writeString(dir.resolve("earlier-backup.raw"), "keep me");

        assertThatThrownBy(() -> new DiskCopier(() -> false).copy(source, existing))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(existing)).isEqualTo("keep me");
    }

    @Test
    void stopsWhenCancelled() throws IOException {
        Path source = sparseFile(dir.resolve("sparse.raw"), 64L * MIB);
        AtomicInteger polls = new AtomicInteger();

        assertThatThrownBy(() -> new DiskCopier(() -> polls.incrementAndGet() > 3).copy(source, dir.resolve("c")))
                .isInstanceOf(CopyCancelledException.class);
        assertThat(polls.get()).isEqualTo(4);
    }

    @Test
    void zeroRunsInsideABlockBecomeHolesAtFileSystemBlockGranularity() throws IOException {
        // Like a qcow2 header cluster: a little data, then zeros, within one copy block.
        Path source = dir.resolve("mixed.img");
        byte[] data = new byte[4 * MIB + 5000];
        Random random = new Random(3);
        for (int at : new int[] {0, 300 * 1024, MIB - 4096, 2 * MIB + 100, 4 * MIB + 1000}) {
            byte[] chunk = new byte[Math.min(4000, data.length - at)];
            random.nextBytes(chunk);
            System.arraycopy(chunk, 0, data, at, chunk.length);
        }
        Files.write(source, data);
        Path copy = dir.resolve("copy.img");

        FileDigest digest = new DiskCopier(() -> false).copy(source, copy);

        assertThat(Files.readAllBytes(copy)).isEqualTo(data);
        assertThat(digest.sha256()).isEqualTo(Trees.sha256(source));
        // Seven 4 KiB blocks hold data (two chunks straddle a block boundary); with whole 1 MiB
        // blocks written the copy would allocate 4 MiB and more.
        assertThat(Host.allocatedBytes(copy)).as("blocks allocated by the copy").isLessThanOrEqualTo(64 * 1024L);
    }

    @Test
    void checksumsOfManyBlocksMatchWhenReadBack() throws IOException {
        Path source = dir.resolve("random.img");
        byte[] data = new byte[9 * MIB + 77];
        new Random(11).nextBytes(data);
        Files.write(source, data);
        DiskCopier copier = new DiskCopier(() -> false);

        FileDigest written = copier.copy(source, dir.resolve("copy.img"));

        assertThat(written.sha256()).isEqualTo(Trees.sha256(source));
        assertThat(copier.digest(dir.resolve("copy.img"))).isEqualTo(written);
    }

    @Test
    void verificationStopsWhenCancelled() throws IOException {
        Path source = sparseFile(dir.resolve("sparse.raw"), 64L * MIB);
        AtomicInteger polls = new AtomicInteger();

        assertThatThrownBy(() -> new DiskCopier(() -> polls.incrementAndGet() > 3).digest(source))
                .isInstanceOf(CopyCancelledException.class);
        assertThat(polls.get()).isEqualTo(4);
    }

    /** A file of {@code size} bytes with 1 MiB of random data at 0 and in the middle, holes elsewhere. */
    private static Path sparseFile(Path file, long size) throws IOException {
        byte[] data = new byte[MIB];
        new Random(1).nextBytes(data);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
            raf.write(data);
            raf.seek(size / 2);
            raf.write(data, 0, (int) Math.min(data.length, size - size / 2));
        }
        return file;
    }

    @Test
    void aFileSystemThatRefusesDirectIoIsCopiedThroughTheCache() throws IOException {
        Path original = sparseFile(Files.createDirectories(dir.resolve("content")).resolve("disk.raw"),
                64L * MIB + 12345);  // holes, data, and a length no alignment divides
        try (SquashfsMount squashfs = SquashfsMount.of(original.getParent(), dir)) {
            Path source = squashfs.dir().resolve("disk.raw");
            assertThatThrownBy(() -> FileChannel.open(source, StandardOpenOption.READ, ExtendedOpenOption.DIRECT))
                    .as("premise: squashfs refuses O_DIRECT at open").isInstanceOf(IOException.class);
            Path copy = dir.resolve("copy.raw");
            DiskCopier copier = new DiskCopier(() -> false);

            FileDigest digest = copier.copy(source, copy);

            assertThat(Files.mismatch(original, copy)).as("first differing byte").isEqualTo(-1);
            assertThat(Files.size(copy)).isEqualTo(64L * MIB + 12345);
            assertThat(Host.allocatedBytes(copy)).as("blocks allocated by the copy").isLessThan(4L * MIB);
            assertThat(digest).isEqualTo(new FileDigest(64L * MIB + 12345, Trees.sha256(original)));
            assertThat(copier.digest(source)).as("read-back through the cache").isEqualTo(digest);
        }
    }

    @Test
    void aDirectReadRefusedForItsAlignmentGoesOnThroughTheCacheFromTheSamePlace() throws IOException {
        byte[] data = randomBytes(3 * MIB + 12345);
        Path source = Files.write(dir.resolve("source.img"), data);
        assertThat(Files.getFileStore(source).getBlockSize())
                .as("premise: Java wants direct reads here aligned to more than 512 bytes").isGreaterThan(512);
        DiskCopier.ReadAlignment tooSmall = file -> 512;
        try (BlockReader reader = BlockReader.open(source, tooSmall)) {
            assertThat(reader.readsDirect()).as("premise: this file system accepts O_DIRECT").isTrue();

            assertThat(reader.next()).isEqualTo(MIB);

            assertThat(reader.readsDirect()).as("reads direct after a refused read").isFalse();
            assertThat(bytesOf(reader.block())).isEqualTo(Arrays.copyOf(data, MIB));
        }

        Path copy = dir.resolve("copy.img");
        FileDigest digest = new DiskCopier(() -> false, tooSmall).copy(source, copy);

        assertThat(Files.readAllBytes(copy)).isEqualTo(data);
        assertThat(digest).isEqualTo(new FileDigest(data.length, Trees.sha256(source)));
    }

    @Test
    void aShortDirectReadIsNotTheEndOfTheFile() throws IOException {
        byte[] data = randomBytes(3 * MIB);
        Path source = Files.write(dir.resolve("source.img"), data);
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        try (BlockReader reader = BlockReader.open(source, DiskCopier.ReadAlignment.OF_FILE_SYSTEM)) {
            assertThat(reader.readsDirect()).as("premise: this file system accepts O_DIRECT").isTrue();
            assertThat(reader.next()).isEqualTo(MIB);
            read.write(bytesOf(reader.block()));
            // For a moment the file ends 100 bytes into the next block: the direct read comes back short,
            // as reads on some file systems do mid-file, and leaves the position unaligned.
            resize(source, MIB + 100);

            assertThat(reader.next()).isEqualTo(100);
            assertThat(reader.readsDirect()).as("reads direct from an unaligned position").isFalse();
            read.write(bytesOf(reader.block()));

            try (FileChannel restore = FileChannel.open(source, StandardOpenOption.WRITE)) {
                restore.write(ByteBuffer.wrap(data, MIB + 100, 2 * MIB - 100), MIB + 100);
            }
            for (int filled; (filled = reader.next()) > 0; ) {
                read.write(bytesOf(reader.block()));
            }
        }
        assertThat(read.toByteArray()).as("the blocks read, without a byte read twice").isEqualTo(data);
    }

    @Test
    void aSourceThatShrinksDuringTheCopyFailsIt() throws IOException {
        Path source = Files.write(dir.resolve("source.img"), randomBytes(3 * MIB));

        assertThatThrownBy(() -> new DiskCopier(afterFirstBlock(() -> resize(source, MIB + 100)))
                .copy(source, dir.resolve("copy.img")))
                .isInstanceOf(IOException.class)
                .hasMessage(source + " changed size while it was read: 3145728 bytes when opened, "
                        + "1048676 bytes read up to its end");
    }

    @Test
    void aSourceThatGrowsDuringTheCopyFailsIt() throws IOException {
        Path source = Files.write(dir.resolve("source.img"), randomBytes(3 * MIB / 2));

        assertThatThrownBy(() -> new DiskCopier(afterFirstBlock(() -> resize(source, 4L * MIB)))
                .copy(source, dir.resolve("copy.img")))
                .isInstanceOf(IOException.class)
                .hasMessage(source + " changed size while it was read: 1572864 bytes when opened, "
                        + "2097152 bytes read so far");
    }

    @Test
    void copiesThatFailOrFallBackLeaveNoFileOpen() throws IOException {
        Path source = sparseFile(dir.resolve("sparse.raw"), 4L * MIB + 100);
        Path existing = Files.writeString(dir.resolve("existing.raw"), "keep me");
        copyInEveryWayThatFailsOrFallsBack(source, existing, 0);
        long before = openFileCount();

        for (int round = 1; round <= 20; round++) {
            copyInEveryWayThatFailsOrFallsBack(source, existing, round);
        }

        assertThat(openFileCount()).as("files open after 20 rounds, %d before", before).isLessThanOrEqualTo(before + 2);
    }

    private void copyInEveryWayThatFailsOrFallsBack(Path source, Path existing, int round) throws IOException {
        assertThatThrownBy(() -> new DiskCopier(() -> false).copy(source, existing))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThatThrownBy(() -> new DiskCopier(() -> true).copy(source, dir.resolve("cancelled-" + round)))
                .isInstanceOf(CopyCancelledException.class);
        new DiskCopier(() -> false, file -> 512).copy(source, dir.resolve("refused-read-" + round));
        new DiskCopier(() -> false, file -> {
            throw new IOException("no file store");
        }).digest(source);
        assertThatThrownBy(() -> new DiskCopier(afterFirstBlock(() -> resize(source, 2L * MIB)))
                .digest(source)).hasMessageContaining("changed size");
        resize(source, 4L * MIB + 100);
    }

    private static long openFileCount() throws IOException {
        try (Stream<Path> open = Files.list(Path.of("/proc/self/fd"))) {
            return open.count();
        }
    }

    /** A cancellation poll that does {@code action} once, after the first block was read, and never cancels. */
    private static BooleanSupplier afterFirstBlock(IoAction action) {
        AtomicInteger polls = new AtomicInteger();
        return () -> {
            if (polls.incrementAndGet() == 1) {
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

    private static void resize(Path file, long size) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
        }
    }

    private static byte[] randomBytes(int length) {
        byte[] data = new byte[length];
        new Random(length).nextBytes(data);
        return data;
    }

    private static byte[] bytesOf(ByteBuffer block) {
        byte[] bytes = new byte[block.remaining()];
        block.duplicate().get(bytes);
        return bytes;
    }

    /**
     * A squashfs image of a folder, loop-mounted read-only: a real file system that refuses O_DIRECT
     * (it has no direct I/O), where tmpfs on current kernels accepts it. Needs root and mksquashfs
     * (squashfs-tools); without them the test is skipped, saying why, except under CI=true, where it fails.
     */
    private static final class SquashfsMount implements AutoCloseable {
        private final Path dir;

        private SquashfsMount(Path dir) {
            this.dir = dir;
        }

        static SquashfsMount of(Path content, Path workDir) throws IOException {
            HostRequirement.requireRoot("mounting a squashfs image");
            HostRequirement.requireCommand("mksquashfs", "squashfs-tools");
            Path image = workDir.resolve(content.getFileName() + ".squashfs");
            Host.run("mksquashfs", content.toString(), image.toString(), "-noappend", "-no-progress", "-quiet");
            Path mountPoint = Files.createDirectories(workDir.resolve(content.getFileName() + ".mounted"));
            Host.run("mount", "-t", "squashfs", "-o", "loop,ro", image.toString(), mountPoint.toString());
            return new SquashfsMount(mountPoint);
        }

        Path dir() {
            return dir;
        }

        @Override
        public void close() throws IOException {
            Host.run("umount", dir.toString());  // the loop device goes with it (autoclear)
        }
    }
}
