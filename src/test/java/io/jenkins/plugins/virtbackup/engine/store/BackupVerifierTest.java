package io.jenkins.plugins.virtbackup.engine.store;

import static io.jenkins.plugins.virtbackup.engine.store.TestBackups.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.copy.FileExtents;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.Severity;
import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code virt-backup verify} on real backups: format 2 written by the engine's copier, format 1 as
 * older versions wrote it, each intact and then damaged in one way a disk or a person damages files.
 */
class BackupVerifierTest {
    @TempDir
    Path dir;

    private final List<String> errors = new ArrayList<>();
    private final List<String> milestones = new ArrayList<>();

    private ExitStatus verify(Path backup) {
        try (BackupLog log = new BackupLog(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                false, (severity, message) -> (severity == Severity.ERROR ? errors : milestones).add(message))) {
            return new BackupVerifier(log, new LinuxFileExtents()).verify(backup);
        }
    }

    @Test
    void aFormat2BackupVerifies() throws Exception {
        Path backup = TestBackups.format2(dir).dir();

        assertThat(verify(backup)).isEqualTo(ExitStatus.OK);
        assertThat(errors).isEmpty();
        assertThat(milestones).containsExactly("backup " + backup + " verified: 3 file(s) match the manifest");
    }

    @Test
    void aFlippedByteInADataChunkFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        TestBackups.flipByte(backup.resolve("vda.raw"), 3L * MIB + 1000);

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).singleElement().asString()
                .startsWith("vda.raw chunk 3 (bytes 3145728...) differs: sha256 ").contains("expected, found sha256 ");
    }

    @Test
    void aFlippedByteInTheShortLastChunkFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        Path memory = backup.resolve("memory.state");
        TestBackups.flipByte(memory, Files.size(memory) - 1);

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).singleElement().asString().startsWith("memory.state chunk 2 (bytes 2097152...) differs");
    }

    @Test
    void dataWrittenInsideAHoleOfTheCopyFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        Path disk = backup.resolve("vda.raw");
        long hole = (long) TestBackups.HOLE_CHUNK * MIB;
        assertThat(Files.readAllLines(backup.resolve("vda.raw.chunks")).get(TestBackups.HOLE_CHUNK)).isEqualTo("zero");
        assertThat(dataIn(disk, hole, hole + MIB)).as("the chunk listed as zero is a hole in the copy").isFalse();
        long allocated = Host.allocatedBytes(disk);

        TestBackups.writeByte(disk, hole + 300_000, 0x01);

        assertThat(Host.allocatedBytes(disk)).as("the byte took a block of the hole").isGreaterThan(allocated);
        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).singleElement().asString()
                .startsWith("vda.raw chunk 4 (bytes 4194304...) differs: zeros expected, found sha256 ");
    }

    @Test
    void zerosWrittenInsideAHoleStillMatch() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        Path disk = backup.resolve("vda.raw");
        long hole = (long) TestBackups.HOLE_CHUNK * MIB;
        long allocated = Host.allocatedBytes(disk);

        TestBackups.writeByte(disk, hole + 300_000, 0);

        assertThat(Host.allocatedBytes(disk)).as("the zero took a block of the hole").isGreaterThan(allocated);
        assertThat(verify(backup)).as("the content is what the index says, allocated or not")
                .isEqualTo(ExitStatus.OK);
    }

    @Test
    void aFlippedByteInAChunkIndexFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        Path index = backup.resolve("vda.raw.chunks");
        // The first digest's first digit: still a well-formed line, just not the one the manifest tied.
        byte was = TestBackups.flipByte(index, 0);
        assertThat((char) was).isNotEqualTo('z');

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).singleElement().asString().startsWith("vda.raw.chunks differs from the manifest (sha256 ");
    }

    @Test
    void aMissingChunkIndexFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        Files.delete(backup.resolve("memory.state.chunks"));

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).containsExactly("memory.state.chunks is missing");
    }

    @Test
    void aMissingFileFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        Files.delete(backup.resolve("vda.raw"));

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).containsExactly("vda.raw is missing");
    }

    @Test
    void aTruncatedFileFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        setLength(backup.resolve("vda.raw"), 7L * MIB);

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).containsExactly("vda.raw is 7340032 bytes, the manifest says 8388608");
    }

    @Test
    void aFileExtendedByZerosFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        // A hole at the end: no data to find, only the length tells.
        setLength(backup.resolve("vda.raw"), 9L * MIB);

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).containsExactly("vda.raw is 9437184 bytes, the manifest says 8388608");
    }

    @Test
    void everyDamagedFileIsNamedOnItsOwnLine() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        TestBackups.flipByte(backup.resolve("domain.xml"), 3);
        Files.delete(backup.resolve("memory.state"));

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).hasSize(2);
        assertThat(errors.get(0)).startsWith("domain.xml chunk 0 (bytes 0...) differs");
        assertThat(errors.get(1)).isEqualTo("memory.state is missing");
    }

    @Test
    void aFormat1BackupStillVerifies() throws Exception {
        Path backup = TestBackups.format1(dir);

        assertThat(verify(backup)).isEqualTo(ExitStatus.OK);
        assertThat(errors).isEmpty();
        assertThat(milestones).containsExactly("backup " + backup + " verified: 3 file(s) match the manifest");
    }

    @Test
    void aFlippedByteInAFormat1BackupFails() throws Exception {
        Path backup = TestBackups.format1(dir);
        String expected = Trees.sha256(backup.resolve("vda.raw"));
        TestBackups.flipByte(backup.resolve("vda.raw"), 6L * MIB + 17);

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).containsExactly("vda.raw differs from the manifest (sha256 "
                + Trees.sha256(backup.resolve("vda.raw")) + ", expected " + expected + ")");
    }

    @Test
    void dataInsideAHoleOfAFormat1BackupFails() throws Exception {
        Path backup = TestBackups.format1(dir);
        Path disk = backup.resolve("vda.raw");
        long hole = (long) TestBackups.HOLE_CHUNK * MIB;
        assertThat(dataIn(disk, hole, hole + MIB)).as("a hole in the copy").isFalse();

        TestBackups.writeByte(disk, hole + 4096, 0x7f);

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).singleElement().asString().startsWith("vda.raw differs from the manifest (sha256 ");
    }

    @Test
    void aTruncatedFileOfAFormat1BackupFails() throws Exception {
        Path backup = TestBackups.format1(dir);
        setLength(backup.resolve("memory.state"), 1000);

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).containsExactly("memory.state is 1000 bytes, the manifest says 2621563");
    }

    @Test
    void aNewerFormatIsRefused() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        rewriteManifest(backup, "\"format\": 2", "\"format\": 3");

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).containsExactly("cannot read " + backup.resolve("manifest.json")
                + ": manifest format 3 is newer than this version of virt-backup reads (up to 2); use a newer virt-backup");
    }

    @Test
    void aManifestNamingAFileOutsideTheBackupIsRefused() throws Exception {
        Path backup = TestBackups.format1(dir);
        // A file one folder up that matches what the manifest says of it: only the name is wrong.
        Files.copy(backup.resolve("domain.xml"), backup.resolveSibling("x"));
        rewriteManifest(backup, "\"name\": \"domain.xml\"", "\"name\": \"../x\"");

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).containsExactly("cannot read " + backup.resolve("manifest.json")
                + ": files[0].name '../x' is not the name of a file in the backup's folder");
    }

    @Test
    void aChunkIndexOutsideTheBackupIsRefused() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        Files.copy(backup.resolve("vda.raw.chunks"), backup.resolveSibling("vda.raw.chunks"));
        rewriteManifest(backup, "\"file\": \"vda.raw.chunks\"", "\"file\": \"../vda.raw.chunks\"");

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).singleElement().asString()
                .endsWith(": files[1].chunks.file '../vda.raw.chunks' is not the name of a file in the backup's folder");
    }

    @Test
    void aManifestThatDoesNotSayCompleteIsRefused() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        rewriteManifest(backup, "\"result\": \"complete\"", "\"result\": \"partial\"");

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).singleElement().asString()
                .endsWith(": the manifest does not say the backup is complete (result: partial)");
    }

    @Test
    void aMissingManifestFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        Files.delete(backup.resolve("manifest.json"));

        assertThat(verify(backup)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).singleElement().asString().startsWith("cannot read " + backup.resolve("manifest.json"));
    }

    @Test
    void anUnfinishedBackupFailsEvenWhenItsFilesMatch() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        Path partial = Files.move(backup, backup.resolveSibling(backup.getFileName() + ".partial"));

        assertThat(verify(partial)).isEqualTo(ExitStatus.VERIFY_FAILED);
        assertThat(errors).containsExactly(partial + " is an unfinished backup (.partial)");
    }

    /** Whether the file system says {@code file} holds data anywhere in {@code [from, to)}. */
    static boolean dataIn(Path file, long from, long to) throws IOException {
        try (FileExtents.Probe probe = new LinuxFileExtents().open(file)) {
            long data = probe.nextData(from);
            return data >= 0 && data < to;
        }
    }

    private static void setLength(Path file, long length) throws IOException {
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.setLength(length);
        }
    }

    private static void rewriteManifest(Path backup, String from, String to) throws IOException {
        Path manifest = backup.resolve(Manifest.FILE_NAME);
        String text = Files.readString(manifest);
        assertThat(text.split(Pattern.quote(from), -1)).as("occurrences of " + from).hasSize(2);
        Files.writeString(manifest, text.replace(from, to));
    }
}
