package io.jenkins.plugins.virtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.engine.store.Json;
import io.jenkins.plugins.virtbackup.libvirt.NativeSyslog;
import io.jenkins.plugins.virtbackup.libvirt.SyslogListener;
import io.jenkins.plugins.virtbackup.testing.CliProcess;
import io.jenkins.plugins.virtbackup.testing.CliProcess.Result;
import io.jenkins.plugins.virtbackup.testing.ProcessTestNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged command line ({@code target/virt-backup-cli.jar}) run as a real process. */
class CliProcessIT {

    /** Locks and journals of these runs: not the machine's /var/lib/virt-backup. */
    private static final Path STATE = Path.of(System.getProperty("java.io.tmpdir"), "virt-backup-it-state");

    @TempDir
    Path dir;
    String uri;
    Path backups;

    @BeforeEach
    void setUp() throws IOException {
        uri = ProcessTestNode.webAndBig(dir.resolve("images"));
        backups = dir.resolve("backups");
    }

    @Test
    void startEndAndErrorsArriveInSyslog() throws Exception {
        try (SyslogListener log = new SyslogListener(dir.resolve("log.sock"))) {
            Result ok = run(log.path(), "-c", uri, "-d", backups.toString(), "web");
            Result missing = run(log.path(), "-c", uri, "-d", backups.toString(), "nosuch");

            assertThat(ok.code()).isZero();
            assertThat(missing.code()).isEqualTo(3);
            List<String> messages = log.drain();
            // <14> is facility user, severity info; <11> user, err.
            assertThat(messages).hasSize(3);
            assertThat(messages.get(0)).matches("<14>\\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d virt-backup\\[\\d+\\]: "
                    + "backup of domain 'web' started: .*");
            assertThat(messages.get(1)).matches("<14>.* virt-backup\\[\\d+\\]: backup of domain 'web' complete: .*");
            assertThat(messages.get(2)).matches("<11>.* virt-backup\\[\\d+\\]: domain 'nosuch' not found");
        }
    }

    @Test
    void exitCodesOfTheRealProcess() throws Exception {
        Path noLog = dir.resolve("no.sock");
        assertThat(run(noLog, "-h").code()).isZero();
        assertThat(run(noLog).code()).isEqualTo(2);
        assertThat(run(noLog, "-c", uri, "-d", backups.toString(), "nosuch").code()).isEqualTo(3);
        Result unreachable = run(noLog, "-c", "qemu+tcp://127.0.0.1:1/system", "web");
        assertThat(unreachable.code()).isEqualTo(4);
        assertThat(unreachable.output()).singleElement().asString().startsWith("virt-backup: error: cannot connect to");
    }

    /** What scripts and the Jenkins step read instead of the log lines, from the real process. */
    @Test
    void theResultFileNamesTheBackupOrSaysThereIsNone() throws Exception {
        Path noLog = dir.resolve("no.sock");
        Path result = dir.resolve("result.json");

        assertThat(run(noLog, "-c", uri, "-d", backups.toString(), "--result-file", result.toString(), "--verify",
                "web").code()).isZero();
        List<Path> complete;
        try (Stream<Path> backupsOfWeb = Files.list(backups.resolve("web"))) {
            complete = backupsOfWeb.toList();
        }
        assertThat(complete).hasSize(1);
        Map<String, Object> full = new HashMap<>();
        full.put("status", 0L);
        full.put("backup", complete.get(0).toString());
        full.put("domain", "web");
        full.put("level", "full");
        full.put("parent", null);
        assertThat(Json.parse(Files.readString(result))).isEqualTo(full);

        assertThat(run(noLog, "-c", uri, "-d", backups.toString(), "--result-file", result.toString(), "nosuch")
                .code()).isEqualTo(3);
        Map<String, Object> failed = new HashMap<>();
        failed.put("status", 3L);
        failed.put("backup", null);
        failed.put("domain", "nosuch");
        failed.put("level", null);
        failed.put("parent", null);
        assertThat(Json.parse(Files.readString(result))).isEqualTo(failed);
    }

    @Test
    void withoutConnectLibvirtDefaultUriIsHonoured() throws Exception {
        Result result = run(dir.resolve("no.sock"), Map.of("LIBVIRT_DEFAULT_URI", uri),
                "-v", "-d", backups.toString(), "web");

        assertThat(result.code()).isZero();
        assertThat(result.output()).contains("virt-backup: connected to " + uri);
    }

    @Test
    void sigtermMidCopyPutsTheDomainBackAndLeavesNothingThatLooksComplete() throws Exception {
        Process process = start(dir.resolve("no.sock"), "-v", "-c", uri, "-d", backups.toString(), "big");
        List<String> output = new ArrayList<>();
        try (BufferedReader out = CliProcess.reader(process)) {
            output.addAll(CliProcess.readUntil(out, "copying disk vda"));
            process.toHandle().destroy();  // SIGTERM, as Jenkins sends on abort
            out.lines().forEach(output::add);
        }
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();

        assertThat(process.exitValue()).isEqualTo(143);
        assertThat(output).contains("virt-backup: warning: stopping: putting the domain back first");
        assertThat(output).anyMatch(line -> line.startsWith("virt-backup: restoring domain 'big'"));
        assertThat(output).last().asString().isEqualTo("virt-backup: error: backup stopped before it was complete");
        assertThat(backups).as("the run created it, and removed it with the unfinished backup").doesNotExist();
    }

    /** Jenkins' abort while two domains are copied at once: both are put back, none looks complete. */
    @Test
    void sigtermDuringAnAllRunPutsEveryDomainBeingBackedUpBack() throws Exception {
        String twoBig = ProcessTestNode.twoBig(dir.resolve("two-big"));
        Process process = start(dir.resolve("no.sock"), "-v", "-c", twoBig, "-d", backups.toString(), "--all",
                "--parallel", "2");
        List<String> output = new ArrayList<>();
        try (BufferedReader out = CliProcess.reader(process)) {
            output.addAll(CliProcess.readUntil(out, "copying disk vda"));
            String first = output.get(output.size() - 1).startsWith("[big-1]") ? "[big-2]" : "[big-1]";
            output.addAll(CliProcess.readUntil(out, first + " virt-backup: copying disk vda"));
            process.toHandle().destroy();
            out.lines().forEach(output::add);
        }
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();

        assertThat(process.exitValue()).isEqualTo(143);
        for (String domain : List.of("big-1", "big-2")) {
            String prefix = "[" + domain + "] virt-backup: ";
            assertThat(output).as(domain).contains(prefix + "warning: stopping: putting the domain back first")
                    .anyMatch(line -> line.startsWith(prefix + "restoring domain '" + domain + "'"))
                    .contains(prefix + "error: backup stopped before it was complete");
        }
        try (Stream<Path> files = Files.exists(backups) ? Files.walk(backups) : Stream.empty()) {
            assertThat(files.map(Path::toString)).as("nothing that looks complete").noneMatch(
                    name -> name.endsWith("manifest.json"));
        }
    }

    @Test
    void aRestoreWritesItsDisksAndItsResultFile() throws Exception {
        Path noLog = dir.resolve("no.sock");
        assertThat(run(noLog, "-c", uri, "-d", backups.toString(), "web").code()).isZero();
        Path backup = onlyBackupOf("web");
        Path result = dir.resolve("restore.json");
        Path target = dir.resolve("restored");

        Result restore = run(noLog, "restore", "-c", uri, "--name", "web-copy", "--disk-dir", target.toString(),
                "--start", "--result-file", result.toString(), backup.toString());

        assertThat(restore.code()).as(restore.text()).isZero();
        assertThat(restore.output()).last().asString().startsWith("virt-backup: restored domain 'web-copy' (UUID ")
                .endsWith("; it was booted");
        Map<?, ?> json = (Map<?, ?>) Json.parse(Files.readString(result));
        assertThat(json.get("status")).isEqualTo(0L);
        assertThat(json.get("domain")).isEqualTo("web-copy");
        assertThat(json.get("started")).isEqualTo("booted");
        assertThat(json.get("disks")).isEqualTo(Map.of("vda", target.resolve("web-copy-vda.raw").toString()));
        assertThat(Files.size(target.resolve("web-copy-vda.raw"))).isEqualTo(Files.size(backup.resolve("vda.raw")));
    }

    @Test
    void sigtermDuringARestoreTestRemovesTheCloneAndItsFolder() throws Exception {
        Path noLog = dir.resolve("no.sock");
        assertThat(run(noLog, "-c", uri, "-d", backups.toString(), "web").code()).isZero();
        Path scratch = dir.resolve("scratch");
        Process process = start(noLog, "restore", "--test", "-v", "-c", uri, "--proof", "running", "--timeout", "600",
                "--disk-dir", scratch.toString(), onlyBackupOf("web").toString());
        List<String> output = new ArrayList<>();
        try (BufferedReader out = CliProcess.reader(process)) {
            output.addAll(CliProcess.readUntil(out, "booting the clone"));
            try (Stream<Path> clones = Files.list(scratch)) {
                assertThat(clones.toList()).singleElement().asString().contains("web-restore-test-");
            }
            process.toHandle().destroy();
            out.lines().forEach(output::add);
        }
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();

        assertThat(process.exitValue()).isEqualTo(143);
        assertThat(output).anyMatch(line -> line.contains("restore test FAILED: the restore test was stopped"));
        assertThat(scratch).as("the run made it, and removed it with the clone's images").doesNotExist();
    }

    private Path onlyBackupOf(String domain) throws IOException {
        try (Stream<Path> found = Files.list(backups.resolve(domain))) {
            return found.filter(Files::isDirectory).findFirst().orElseThrow();
        }
    }

    private Result run(Path syslogSocket, String... args) throws Exception {
        return run(syslogSocket, Map.of(), args);
    }

    private Result run(Path syslogSocket, Map<String, String> environment, String... args) throws Exception {
        return CliProcess.finish(start(syslogSocket, environment, args));
    }

    private static Process start(Path syslogSocket, String... args) throws IOException {
        return start(syslogSocket, Map.of(), args);
    }

    private static Process start(Path syslogSocket, Map<String, String> environment, String... args)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(args));
        if (args.length > 0 && !args[0].startsWith("-h")) {
            command.addAll(List.of("--state-dir", STATE.toString()));
        }
        Map<String, String> env = new HashMap<>(environment);
        env.put(NativeSyslog.SOCKET_ENV, syslogSocket.toString());
        return CliProcess.start(command, env);
    }
}
