package io.jenkins.plugins.virtbackup.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.testing.Host;
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
}
