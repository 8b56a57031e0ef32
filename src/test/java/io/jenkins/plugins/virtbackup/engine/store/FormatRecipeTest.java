package io.jenkins.plugins.virtbackup.engine.store;

import static io.jenkins.plugins.virtbackup.engine.store.TestBackups.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.testing.HostRequirement;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/format.md promises that a backup can be checked without virt-backup and prints the script
 * that does it. This runs that very script, cut out of the document, against real backups, intact
 * and damaged: the document and what it promises cannot drift apart.
 */
class FormatRecipeTest {
    private static final Path DOCUMENT = Path.of("docs/format.md");
    private static final String BEGIN = "<!-- check-backup: begin -->";
    private static final String END = "<!-- check-backup: end -->";

    @TempDir
    Path dir;

    private Path script;

    @BeforeEach
    void scriptFromTheDocument() throws IOException {
        HostRequirement.requireCommand("jq", "jq");
        String document = Files.readString(DOCUMENT, StandardCharsets.UTF_8);
        int begin = document.indexOf(BEGIN);
        int end = document.indexOf(END);
        assertThat(begin).as("the script's markers in " + DOCUMENT).isNotNegative().isLessThan(end);
        String fenced = document.substring(begin + BEGIN.length(), end).strip();
        assertThat(fenced).startsWith("```bash\n").endsWith("\n```");
        script = Files.writeString(dir.resolve("check-backup"),
                fenced.substring("```bash\n".length(), fenced.length() - "```".length()), StandardCharsets.UTF_8);
    }

    /** What the script printed and how it exited. */
    private record Run(int status, String output) {
    }

    private Run check(Path backup) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("bash", script.toString(), backup.toString())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the script ends").isTrue();
        return new Run(process.exitValue(), output);
    }

    @Test
    void anIntactFormat2BackupPasses() throws Exception {
        Path backup = TestBackups.format2(dir).dir();

        assertThat(check(backup)).isEqualTo(new Run(0, "every file matches manifest.json\n"));
    }

    @Test
    void aFlippedByteInADataChunkFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        TestBackups.flipByte(backup.resolve("vda.raw"), 6L * MIB + 5);

        assertThat(check(backup)).isEqualTo(new Run(1, "vda.raw chunk 6: sha256 differs\n"));
    }

    @Test
    void dataInsideAChunkListedAsZerosFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        assertThat(BackupVerifierTest.dataIn(backup.resolve("vda.raw"), 4L * MIB, 5L * MIB)).isFalse();
        TestBackups.writeByte(backup.resolve("vda.raw"), 4L * MIB + 300_000, 0x01);

        assertThat(check(backup)).isEqualTo(new Run(1, "vda.raw chunk 4: not zeros, as the index says\n"));
    }

    @Test
    void aFlippedByteInTheShortLastChunkFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        Path memory = backup.resolve("memory.state");
        TestBackups.flipByte(memory, Files.size(memory) - 1);

        assertThat(check(backup)).isEqualTo(new Run(1, "memory.state chunk 2: sha256 differs\n"));
    }

    @Test
    void aDamagedOrMissingChunkIndexFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        TestBackups.flipByte(backup.resolve("vda.raw.chunks"), 70);
        Files.delete(backup.resolve("memory.state.chunks"));

        assertThat(check(backup)).isEqualTo(new Run(1,
                "vda.raw.chunks: sha256 differs\nmemory.state.chunks is missing\n"));
    }

    @Test
    void aTruncatedFileFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        Files.write(backup.resolve("domain.xml"), new byte[0]);

        assertThat(check(backup)).isEqualTo(new Run(1, "domain.xml: size differs\n"));
    }

    @Test
    void aNameOutsideTheFolderFails() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        Path manifest = backup.resolve(Manifest.FILE_NAME);
        Files.writeString(manifest, Files.readString(manifest).replace("\"name\": \"domain.xml\"", "\"name\": \"../x\""));

        assertThat(check(backup)).isEqualTo(new Run(1, "../x: not a file of this folder\n"));
    }

    @Test
    void aFormat1BackupPassesAndAFlippedByteInItFails() throws Exception {
        Path backup = TestBackups.format1(dir);
        assertThat(check(backup)).isEqualTo(new Run(0, "every file matches manifest.json\n"));

        TestBackups.flipByte(backup.resolve("vda.raw"), 3L * MIB + 9);

        assertThat(check(backup)).isEqualTo(new Run(1, "vda.raw: sha256 differs\n"));
    }

    @Test
    void aNewerFormatIsNotCheckedAsIfItWereKnown() throws Exception {
        Path backup = TestBackups.format2(dir).dir();
        Path manifest = backup.resolve(Manifest.FILE_NAME);
        Files.writeString(manifest, Files.readString(manifest).replace("\"format\": 2", "\"format\": 3"));

        assertThat(check(backup)).isEqualTo(new Run(1, "manifest format 3: this script reads formats 1 and 2\n"));
    }
}
