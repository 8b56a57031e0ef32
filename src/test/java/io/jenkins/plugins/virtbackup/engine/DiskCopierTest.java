package io.jenkins.plugins.virtbackup.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.TmpfsMount;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
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
    void theReadBackDigestIsExactWithAndWithoutDirectIo() throws Exception {
        byte[] data = new byte[3 * MIB + 12345];  // not a multiple of any block size
        new Random(11).nextBytes(data);
        Path onDisk = Files.write(dir.resolve("odd.img"), data);
        assertThat(new DiskCopier(() -> false).digest(onDisk).sha256()).isEqualTo(Trees.sha256(onDisk));

        // tmpfs refuses O_DIRECT: the read-back falls back to the page cache.
        try (TmpfsMount tmpfs = TmpfsMount.mount(dir.resolve("tmpfs"), "size=8m")) {
            Path inMemory = Files.write(tmpfs.dir().resolve("odd.img"), data);
            FileDigest digest = new DiskCopier(() -> false).digest(inMemory);
            assertThat(digest.sha256()).isEqualTo(Trees.sha256(onDisk));
            assertThat(digest.size()).isEqualTo(data.length);
        }
    }
}
