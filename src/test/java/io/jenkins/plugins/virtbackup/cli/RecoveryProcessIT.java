package io.jenkins.plugins.virtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.testing.CliProcess;
import io.jenkins.plugins.virtbackup.testing.CliProcess.Result;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.ProcessTestNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal, the lock, recover and verify, through the packaged command line as real processes on
 * libvirt's test driver. (The test driver forgets domain state with the process, so what a journal
 * does to a real domain is proven on QEMU guests in QemuFaultIT; here: the files and the exits.)
 */
class RecoveryProcessIT {
    @TempDir
    Path dir;
    String uri;
    Path backups;
    Path state;

    @BeforeEach
    void setUp() throws IOException {
        uri = ProcessTestNode.webAndBig(dir.resolve("images"));
        backups = dir.resolve("backups");
        state = dir.resolve("state");
    }

    @Test
    void aKilledRunLeavesAJournalThatRecoverFinishes() throws Exception {
        Process killed = start("-v", "-c", uri, "-d", backups.toString(), "big");
        readUntil(killed, "copying disk vda");
        killed.toHandle().destroyForcibly();  // SIGKILL: no hook runs
        assertThat(killed.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(partials()).as("the unfinished backup, never complete-looking").hasSize(1);
        assertThat(journalFiles()).hasSize(1);
        assertThat(Files.readString(journalFiles().get(0))).contains("\"action\": \"restore\"");

        Result recover = run("recover", "-v", "-c", uri, "--state-dir", state.toString());

        assertThat(recover.code()).as(String.join("\n", recover.output())).isZero();
        assertThat(recover.output()).anyMatch(l -> l.contains("recovering domain 'big': restore it from"))
                .anyMatch(l -> l.contains("domain 'big' recovered"));
        assertThat(partials()).isEmpty();
        assertThat(journalFiles()).isEmpty();
        assertThat(run("recover", "-c", uri, "--state-dir", state.toString()).output())
                .containsExactly("virt-backup: nothing to recover");
    }

    @Test
    void theNextBackupFinishesTheJournalFirst() throws Exception {
        Process killed = start("-v", "-c", uri, "-d", backups.toString(), "big");
        readUntil(killed, "copying disk vda");
        killed.toHandle().destroyForcibly();
        killed.waitFor(30, TimeUnit.SECONDS);

        Result next = run("-c", uri, "-d", backups.toString(), "--state-dir", state.toString(), "big", "--help");
        assertThat(next.code()).isZero();  // --help touches nothing
        Result web = run("-c", uri, "-d", backups.toString(), "--state-dir", state.toString(), "web");
        assertThat(web.code()).isZero();
        assertThat(journalFiles()).as("web's run leaves big's journal alone").hasSize(1);

        Process again = start("-c", uri, "-d", backups.toString(), "big");
        List<String> lines = readUntil(again, "recovering domain 'big'");
        again.toHandle().destroyForcibly();
        again.waitFor(30, TimeUnit.SECONDS);
        assertThat(lines).anyMatch(l -> l.contains("an earlier run on domain 'big' did not finish: recovering first"));
    }

    @Test
    void twoRunsOnOneDomainAtOnce() throws Exception {
        Process first = start("-v", "-c", uri, "-d", backups.toString(), "big");
        readUntil(first, "copying disk vda");
        // Stopped mid-copy, it holds the domain's lock for as long as the test needs, however fast copies get.
        Host.run("kill", "-STOP", Long.toString(first.pid()));
        Result second;
        Result recover;
        try {
            second = run("-c", uri, "-d", backups.toString(), "--state-dir", state.toString(), "big");
            recover = run("recover", "-c", uri, "--state-dir", state.toString(), "big");
        } finally {
            Host.run("kill", "-CONT", Long.toString(first.pid()));
        }

        assertThat(second.code()).isEqualTo(6);
        assertThat(second.output()).singleElement().asString()
                .matches("virt-backup: error: domain 'big' is busy: backup by process " + first.pid() + " since .*");
        assertThat(recover.code()).isEqualTo(6);
        first.toHandle().destroy();
        first.waitFor(30, TimeUnit.SECONDS);
        assertThat(run("-c", uri, "-d", backups.toString(), "--state-dir", state.toString(), "web").code())
                .as("another domain is not locked").isZero();
    }

    @Test
    void verifyFindsMissingAndChangedFiles() throws Exception {
        assertThat(run("-c", uri, "-d", backups.toString(), "--state-dir", state.toString(), "web").code()).isZero();
        Path backup;
        try (Stream<Path> dirs = Files.list(backups.resolve("web"))) {
            backup = dirs.findFirst().orElseThrow();
        }
        assertThat(run("verify", backup.toString()).code()).isZero();

        Path disk = backup.resolve("vda.raw");
        byte[] bytes = Files.readAllBytes(disk);
        bytes[4096] ^= 1;
        Files.write(disk, bytes);
        Result changed = run("verify", backup.toString());
        assertThat(changed.code()).isEqualTo(7);
        assertThat(changed.output()).singleElement().asString()
                .startsWith("virt-backup: error: vda.raw chunk 0 (bytes 0...) differs");

        Files.delete(backup.resolve("domain.xml"));
        assertThat(run("verify", backup.toString()).output()).contains("virt-backup: error: domain.xml is missing");
        assertThat(run("verify", dir.toString()).code()).as("no manifest at all").isEqualTo(7);
    }

    // ------------------------------------------------------------------ helpers

    private List<Path> partials() throws IOException {
        if (!Files.exists(backups)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(backups)) {
            return walk.filter(p -> p.getFileName().toString().endsWith(".partial")).toList();
        }
    }

    private List<Path> journalFiles() throws IOException {
        Path folder = state.resolve("journal");
        if (!Files.exists(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.toList();
        }
    }

    private static List<String> readUntil(Process process, String text) throws IOException {
        return CliProcess.readUntil(CliProcess.reader(process), text);
    }

    private Process start(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(args));
        if (!args[0].equals("recover") && !args[0].equals("verify") && !command.contains("--state-dir")) {
            command.addAll(List.of("--state-dir", state.toString()));
        }
        return CliProcess.start(command, Map.of("VIRT_BACKUP_SYSLOG_SOCKET", dir.resolve("no-syslog").toString()));
    }

    private Result run(String... args) throws Exception {
        return CliProcess.finish(start(args));
    }
}
