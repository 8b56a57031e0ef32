package io.jenkins.plugins.virtbackup.engine.copy;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.HostRequirement;
import io.jenkins.plugins.virtbackup.testing.SparseFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checking a copy against its chunk index: a clean copy passes, and a changed byte anywhere (in
 * data, in a hole, data lost to a hole, a different length, a changed index) is reported, naming
 * the chunk.
 */
class ChunkCheckTest {
    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;

    @TempDir
    Path dir;

    private Path copy;
    private FileDigest digest;
    private List<String> lines;

    /**
     * A copy of 8 MiB and 5 bytes: chunk 0 full of data, 1 a hole, 2 some data and a hole, 3 a hole,
     * 4 written zeros, 5 to 7 full, 8 the last 5 bytes.
     */
    @BeforeEach
    void copyOfDataHolesAndZeros() throws IOException {
        Path source = SparseFile.create(dir.resolve("source.raw"), 8L * MIB + 5)
                .random(0, MIB)
                .random(2L * MIB + 4 * KIB, 100 * KIB)
                .write(4L * MIB, new byte[MIB])
                .random(5L * MIB, 3 * MIB + 5)
                .synced();
        copy = dir.resolve("copy.raw");
        digest = new DiskCopier(() -> false, new LinuxFileExtents(), PosixFilePermissions.fromString("rw-------"))
                .copy(source, copy, null, null);
        lines = Files.readAllLines(dir.resolve("copy.raw.chunks"));
        assertThat(lines).as("premise: the index").containsExactly(lines.get(0), "zero", lines.get(2), "zero",
                "zero", lines.get(5), lines.get(6), lines.get(7), lines.get(8));
    }

    private List<String> check() throws IOException {
        return check(digest.size(), digest.chunks());
    }

    private List<String> check(long size, ChunkIndex.Ref ref) throws IOException {
        return new ChunkCheck(new ChunkPipeline(() -> false), new LinuxFileExtents()).check(dir, "copy.raw", size,
                ref);
    }

    @Test
    void aCleanCopyHasNoProblem() throws IOException {
        assertThat(check()).isEmpty();
    }

    @Test
    void aFlippedByteInDataIsReportedWithItsChunk() throws IOException {
        flipByte(2L * MIB + 4 * KIB + 50);

        assertThat(check()).containsExactly("copy.raw chunk 2 (bytes 2097152...) differs: sha256 " + lines.get(2)
                + " expected, found sha256 " + IndependentIndex.line(copy, 2));
    }

    @Test
    void aByteWrittenIntoAHoleIsReported() throws IOException {
        writeAt(MIB + 12345, new byte[] {1});                  // chunk 1, listed as zeros
        writeAt(2L * MIB + 900 * KIB, new byte[] {(byte) 0x80});  // the hole in data chunk 2

        assertThat(check()).containsExactly(
                "copy.raw chunk 1 (bytes 1048576...) differs: zeros expected, found sha256 "
                        + IndependentIndex.line(copy, 1),
                "copy.raw chunk 2 (bytes 2097152...) differs: sha256 " + lines.get(2) + " expected, found sha256 "
                        + IndependentIndex.line(copy, 2));
    }

    @Test
    void zerosWrittenIntoAHoleAreStillZeros() throws IOException {
        writeAt(3L * MIB + 8 * KIB, new byte[64 * KIB]);
        try (FileSource written = FileSource.open(copy, new LinuxFileExtents())) {
            assertThat(written.extents(3L * MIB, 4L * MIB)).as("premise: chunk 3 now holds data").anyMatch(Extent::data);
        }

        assertThat(check()).isEmpty();
    }

    @Test
    void dataLostToAHoleIsReported() throws IOException {
        HostRequirement.requireCommand("fallocate", "util-linux");
        Host.run("fallocate", "--punch-hole", "--offset", String.valueOf(5L * MIB), "--length", String.valueOf(MIB),
                copy.toString());

        assertThat(check()).containsExactly(
                "copy.raw chunk 5 (bytes 5242880...) differs: sha256 " + lines.get(5) + " expected, found zeros");
    }

    @Test
    void aCopyOfAnotherLengthIsReported() throws IOException {
        SparseFile.resize(copy, 5L * MIB);
        assertThat(check()).containsExactly("copy.raw is 5242880 bytes, the manifest says 8388613");

        SparseFile.resize(copy, 9L * MIB);
        assertThat(check()).containsExactly("copy.raw is 9437184 bytes, the manifest says 8388613");
    }

    @Test
    void manyDifferencesAreNamedUpToFiveAndCounted() throws IOException {
        for (long chunk : new long[] {0, 1, 2, 3, 5, 6, 7, 8}) {
            flipByte(chunk * MIB + (chunk == 2 ? 4 * KIB : 0) + 1);
        }

        List<String> problems = check();

        assertThat(problems).hasSize(6);
        assertThat(problems.subList(0, 5)).allMatch(line -> line.startsWith("copy.raw chunk "))
                .extracting(line -> line.split(" ")[2]).containsExactly("0", "1", "2", "3", "5");
        assertThat(problems.get(5)).isEqualTo("copy.raw: 8 chunks differ in all");
    }

    @Test
    void aChangedOrMissingIndexOrCopyIsReported() throws IOException {
        Path index = dir.resolve("copy.raw.chunks");
        String original = Files.readString(index);
        Files.writeString(index, original.replaceFirst("zero", "0".repeat(64)));
        String changed = IndependentIndex.sha256(Files.readAllBytes(index));
        assertThat(check()).containsExactly("copy.raw.chunks differs from the manifest (sha256 " + changed
                + ", expected " + digest.chunks().sha256() + ")");

        Files.delete(index);
        assertThat(check()).containsExactly("copy.raw.chunks is missing");

        Files.writeString(index, original);
        Files.delete(copy);
        assertThat(check()).containsExactly("copy.raw is missing");
    }

    @Test
    void anIndexThatCannotDescribeTheFileIsReported() throws IOException {
        ChunkIndex.Ref ref = digest.chunks();

        assertThat(check(20L * MIB, ref)).containsExactly(
                "copy.raw.chunks does not fit a file of 20971520 bytes in chunks of 1048576");
        assertThat(check(digest.size(), new ChunkIndex.Ref(ref.file(), 4096, ref.chunks(), ref.dataChunks(),
                ref.sha256()))).containsExactly("copy.raw.chunks does not fit a file of 8388613 bytes in chunks of 4096");
        // A manifest is only JSON: a chunk size of 0 in it is reported, not a division by zero.
        assertThat(check(digest.size(), new ChunkIndex.Ref(ref.file(), 0, ref.chunks(), ref.dataChunks(),
                ref.sha256()))).containsExactly("copy.raw.chunks does not fit a file of 8388613 bytes in chunks of 0");
    }

    private void flipByte(long offset) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        try (FileChannel channel = FileChannel.open(copy, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            channel.read(one, offset);
            one.put(0, (byte) ~one.get(0)).rewind();
            channel.write(one, offset);
        }
    }

    private void writeAt(long offset, byte[] bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(copy, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(bytes), offset);
        }
    }
}
