package io.jenkins.plugins.virtbackup.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.copy.FileExtents;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.HostRequirement;
import io.jenkins.plugins.virtbackup.testing.Leaks;
import io.jenkins.plugins.virtbackup.testing.SparseFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * lseek's SEEK_DATA and SEEK_HOLE through JNA, on real sparse files: the answers are the file
 * system's, at its block granularity, and the end of the file is a hole.
 */
class LinuxFileExtentsTest {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    private static final int BLOCK = 4096;

    @TempDir
    Path dir;

    @BeforeEach
    void fileSystemHasFourKibBlocks() throws IOException {
        // The expected boundaries below are whole 4 KiB blocks, as on ext4, xfs and tmpfs.
        assertThat(Files.getFileStore(dir).getBlockSize()).as("premise: block size of %s", dir).isEqualTo(BLOCK);
    }

    @Test
    void findsEachDataRunAndEachHoleWhereTheFileSystemKeepsThem() throws IOException {
        long size = 64 * MIB + 5000;
        Path file = SparseFile.create(dir.resolve("sparse.raw"), size)
                .random(MIB, 8192)
                .random(5 * MIB + 4096, 4096)
                .random(10 * MIB + 12288 + 17, 100)  // 100 bytes: the whole block holds data
                .random(size - 3000, 3000)           // ends the file in the middle of a block
                .synced();

        try (FileExtents.Probe probe = new LinuxFileExtents().open(file)) {
            assertThat(dataRuns(probe, size)).containsExactly(
                    run(MIB, MIB + 8 * KIB),
                    run(5 * MIB + 4 * KIB, 5 * MIB + 8 * KIB),
                    run(10 * MIB + 12 * KIB, 10 * MIB + 16 * KIB),
                    run(64 * MIB, size));
            assertThat(probe.nextData(MIB + 100)).as("inside data").isEqualTo(MIB + 100);
            assertThat(probe.nextHole(MIB + 100)).as("the hole after it").isEqualTo(MIB + 8 * KIB);
            assertThat(probe.nextHole(500)).as("inside a hole").isEqualTo(500);
            assertThat(probe.nextData(10 * MIB + 16 * KIB)).as("the last run").isEqualTo(64 * MIB);
            assertThat(probe.nextHole(64 * MIB)).as("the end is a hole").isEqualTo(size);
        }
    }

    @Test
    void pastTheLastDataOnlyHolesFollow() throws IOException {
        long size = 16 * MIB;
        Path file = SparseFile.create(dir.resolve("trailing-hole.raw"), size).random(0, BLOCK).synced();

        try (FileExtents.Probe probe = new LinuxFileExtents().open(file)) {
            assertThat(probe.nextData(0)).isEqualTo(0);
            assertThat(probe.nextHole(0)).isEqualTo(BLOCK);
            assertThat(probe.nextData(BLOCK)).as("no data in the trailing hole (ENXIO)").isEqualTo(-1);
            assertThat(probe.nextHole(8 * MIB)).isEqualTo(8 * MIB);
            assertThat(probe.nextData(size)).as("at the end (ENXIO)").isEqualTo(-1);
            assertThat(probe.nextHole(size)).as("at the end (ENXIO)").isEqualTo(size);
            assertThat(probe.nextData(size + MIB)).as("past the end (ENXIO)").isEqualTo(-1);
            assertThat(probe.nextHole(size + MIB)).as("past the end (ENXIO)").isEqualTo(size + MIB);
        }
    }

    @Test
    void aFileWithoutHolesIsOneRunOfData() throws IOException {
        Path file = Files.write(dir.resolve("full.raw"), SparseFile.randomBytes(3 * (int) MIB + 5, 1));

        try (FileExtents.Probe probe = new LinuxFileExtents().open(file)) {
            assertThat(dataRuns(probe, Files.size(file))).containsExactly(run(0, 3 * MIB + 5));
        }
    }

    @Test
    void anEmptyFileHasNoData() throws IOException {
        Path file = Files.createFile(dir.resolve("empty.raw"));

        try (FileExtents.Probe probe = new LinuxFileExtents().open(file)) {
            assertThat(probe.nextData(0)).isEqualTo(-1);
            assertThat(probe.nextHole(0)).isEqualTo(0);
        }
    }

    @Test
    void agreesWithFilefragOnAFileOfManyRuns() throws IOException {
        HostRequirement.requireCommand("filefrag", "e2fsprogs");
        long size = 256 * MIB;
        SparseFile sparse = SparseFile.create(dir.resolve("many.raw"), size);
        Random random = new Random(42);
        for (int write = 0; write < 60; write++) {
            long offset = random.nextLong(size - MIB);
            sparse.random(offset, 1 + random.nextInt((int) (300 * KIB)));
        }
        Path file = sparse.synced();

        List<Run> seen;
        try (FileExtents.Probe probe = new LinuxFileExtents().open(file)) {
            seen = dataRuns(probe, size);
        }

        assertThat(seen).as("data runs by SEEK_DATA/SEEK_HOLE").hasSizeGreaterThan(20)
                .containsExactlyElementsOf(filefragRuns(file, size));
    }

    @Test
    void errorsOtherThanTheEndAreFailures() throws IOException {
        // A proc file answers lseek with SEEK_DATA by EINVAL (seq_lseek knows only SET and CUR).
        Path procFile = Path.of("/proc/self/status");
        try (FileExtents.Probe probe = new LinuxFileExtents().open(procFile)) {
            assertThatThrownBy(() -> probe.nextData(0)).isInstanceOf(IOException.class)
                    .hasMessage("cannot find the data of " + procFile + ": errno 22");
        }
        Path missing = dir.resolve("missing.raw");
        assertThatThrownBy(() -> new LinuxFileExtents().open(missing)).isInstanceOf(IOException.class)
                .hasMessage("cannot open " + missing + " to find its data: errno 2");
    }

    @Test
    void aClosedProbeRefusesQuestionsAndClosesOnce() throws IOException {
        Path file = SparseFile.create(dir.resolve("small.raw"), MIB).random(0, BLOCK).synced();
        FileExtents.Probe probe = new LinuxFileExtents().open(file);
        probe.close();
        probe.close();

        assertThatThrownBy(() -> probe.nextData(0)).isInstanceOf(IOException.class).hasMessage(file + " is closed");
    }

    @Test
    void closingAProbeClosesItsFileDescriptor() throws IOException {
        Path file = SparseFile.create(dir.resolve("small.raw"), MIB).random(0, BLOCK).synced();
        LinuxFileExtents extents = new LinuxFileExtents();
        extents.open(file).close();
        long before = Leaks.openFileCount();

        for (int round = 0; round < 50; round++) {
            try (FileExtents.Probe probe = extents.open(file)) {
                assertThat(probe.nextHole(0)).isEqualTo(BLOCK);
            }
        }

        assertThat(Leaks.openFileCount()).as("files open after 50 probes, %d before", before).isLessThanOrEqualTo(before + 2);
    }

    /** Every data run in {@code [0, size)}, walking the file as the copy does. */
    private static List<Run> dataRuns(FileExtents.Probe probe, long size) throws IOException {
        List<Run> runs = new ArrayList<>();
        long at = 0;
        while (at < size) {
            long data = probe.nextData(at);
            if (data < 0) {
                break;
            }
            long hole = probe.nextHole(data);
            assertThat(hole).as("the hole after data at %d", data).isGreaterThan(data);
            runs.add(run(data, hole));
            at = hole;
        }
        return runs;
    }

    private static final Pattern FILEFRAG_EXTENT = Pattern.compile("^\\s*\\d+:\\s*(\\d+)\\.\\.\\s*(\\d+):.*$");

    /**
     * The file's written extents as {@code filefrag} (FIEMAP) lists them in bytes, touching ones
     * merged, unwritten ones left out (SEEK_DATA counts those as holes), the last one cut at the
     * file's end (FIEMAP counts whole blocks).
     */
    private static List<Run> filefragRuns(Path file, long size) throws IOException {
        List<Run> runs = new ArrayList<>();
        for (String line : Host.run("filefrag", "-e", "-b1", file.toString()).split("\n")) {
            Matcher extent = FILEFRAG_EXTENT.matcher(line);
            if (!extent.matches() || line.contains("unwritten")) {
                continue;
            }
            long start = Long.parseLong(extent.group(1));
            long end = Math.min(size, Long.parseLong(extent.group(2)) + 1);
            if (!runs.isEmpty() && runs.get(runs.size() - 1).end() == start) {
                runs.set(runs.size() - 1, run(runs.get(runs.size() - 1).start(), end));
            } else {
                runs.add(run(start, end));
            }
        }
        return runs;
    }

    /** Bytes {@code [start, end)} of a file. */
    private record Run(long start, long end) {
    }

    private static Run run(long start, long end) {
        return new Run(start, end);
    }

}
