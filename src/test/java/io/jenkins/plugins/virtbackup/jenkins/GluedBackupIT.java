package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import io.jenkins.plugins.virtbackup.engine.RunResult;
import io.jenkins.plugins.virtbackup.engine.store.Json;
import io.jenkins.plugins.virtbackup.libvirt.NativeSyslog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
 * The command lines the step builds, run by the real packaged engine against libvirt's test driver,
 * read back the way the step reads them: through {@link EngineConsole}, {@link EngineExit}, the
 * engine's result file ({@link RunResult}) and {@link BackupSummary}. Only the Jenkins plumbing
 * around it (Launcher, FilePath) is left out.
 */
class GluedBackupIT {
    private static final Path JAR = Path.of(System.getProperty("virtbackup.cli.jar", "target/virt-backup-cli.jar"));

    @TempDir
    Path dir;
    String uri;
    String backups;

    @BeforeEach
    void setUp() throws IOException {
        TestDriverNode node = new TestDriverNode(dir.resolve("images"));
        uri = node
                .domain("web", RunState.RUNNING, true,
                        TestDriverNode.fileDisk("vda", node.rawImage("web-a.raw", 8 << 20, 1 << 20, 1), "raw"),
                        TestDriverNode.fileDisk("vdb", node.rawImage("web-b.raw", 4 << 20, 1 << 19, 2), "raw"))
                .domain("-dash", RunState.SHUT_OFF, true,
                        TestDriverNode.fileDisk("vda", node.rawImage("dash.raw", 2 << 20, 1 << 18, 3), "raw"))
                .write();
        backups = dir.resolve("backups").toString();
    }

    @Test
    void suspendWithEveryDefault() throws Exception {
        Run run = run(new BackupOptions("web", uri, null, null, null, backups, 300, false, false, false));

        Map<String, Object> result = checkAgainstTheManifest(run, "web", "suspend");
        assertThat(files(result)).contains("domain.xml", "vda.raw", "vdb.raw", "memory.state");
        assertThat(run.output).doesNotContain("virt-backup: connected to");
    }

    @Test
    void shutdownOfOneDiskVerboseWithForceOffAndVerify() throws Exception {
        Run run = run(new BackupOptions("web", uri, List.of("vdb"), "shutdown", "full", backups + "/", 30, true, true,
                true));

        Map<String, Object> result = checkAgainstTheManifest(run, "web", "shutdown");
        assertThat(files(result)).containsExactlyInAnyOrder("domain.xml", "vdb.raw");
        assertThat(run.output).contains("virt-backup: connected to " + uri);
    }

    /** Without the {@code --} the step puts before the domain, this name would be read as an option. */
    @Test
    void domainNamesThatLookLikeOptions() throws Exception {
        Run run = run(new BackupOptions("-dash", uri, List.of(), "shutdown", null, backups, 300, false, false, false));

        checkAgainstTheManifest(run, "-dash", "shutdown");
    }

    @Test
    void failureReportsTheEnginesLastError() throws Exception {
        BackupOptions options = new BackupOptions("nosuch", uri, null, null, null, backups, 300, false, false, false);
        Run run = run(options);

        assertThat(run.code).isEqualTo(3);
        assertThat(EngineExit.succeeded(run.code)).isFalse();
        assertThat(EngineExit.failure("nosuch", run.code, run.console.lastProblem())).isEqualTo(
                "virt-backup of domain 'nosuch' failed with exit code 3 (domain or disk not found): "
                        + "domain 'nosuch' not found");
        assertThat(run.result).as("written on failure too").isEqualTo(RunResult.withoutBackup(3, "nosuch"));
    }

    /**
     * The form and the engine agree on what a snapshot size is, since both use the engine's parser:
     * with each size the step accepts, the engine ends exactly as it does without one (at its LVM
     * preflight: this host's test-driver disks are plain files, and whether {@code lvs} is installed
     * decides the message); each size the step refuses is the engine's own usage error about
     * {@code --snapshot-size}. In another mode the step leaves the size out, and the backup runs.
     */
    @Test
    void snapshotSizesTheStepTakesAreTheOnesTheEngineTakes() throws Exception {
        BackupOptions snapshotDm = new BackupOptions("web", uri, null, "snapshot-dm", null, backups, 300, false, false,
                false);
        Run unsized = run(snapshotDm);
        assertThat(unsized.code).as(unsized.output).isNotZero();
        assertThat(unsized.console.lastProblem()).as(unsized.output).isNotNull().doesNotContain("snapshot-size");
        for (String size : List.of("2G", "512 MiB", "4096")) {
            BackupOptions options = snapshotDm.withSnapshotSize(size);
            assertThat(options.cliArguments()).containsSubsequence("--snapshot-size", size, "--");
            Run run = run(options);
            assertThat(run.code).as(run.output).isEqualTo(unsized.code);
            assertThat(run.console.lastProblem()).as(size).isEqualTo(unsized.console.lastProblem());
        }
        for (String size : List.of("0", "2X", "1.5G", "99999999999T")) {
            BackupOptions options = snapshotDm.withSnapshotSize(size);
            assertThat(options.problems()).as(size).hasSize(1);
            Run run = start(options);
            assertThat(run.code).as(run.output).isEqualTo(2);
            assertThat(run.console.lastProblem()).as(size).startsWith("--snapshot-size: ");
        }

        Run suspend = run(new BackupOptions("web", uri, null, "suspend", null, backups, 300, false, false, false)
                .withSnapshotSize("2G"));
        checkAgainstTheManifest(suspend, "web", "suspend");
    }

    /** The step's map against the manifest file and the directory itself, read independently. */
    private Map<String, Object> checkAgainstTheManifest(Run run, String domain, String mode) throws Exception {
        assertThat(run.code).as(run.output).isZero();
        assertThat(run.result.status()).isZero();
        assertThat(run.result.domain()).isEqualTo(domain);
        String backupDir = run.result.backup();
        assertThat(backupDir).as(run.output).isNotNull().startsWith(run.options.domainDir() + "/");
        try (Stream<Path> backupsOfDomain = Files.list(Path.of(run.options.domainDir()))) {
            assertThat(backupsOfDomain).as("the one backup of the domain").containsExactly(Path.of(backupDir));
        }
        Path backup = Path.of(backupDir);
        String json = Files.readString(backup.resolve("manifest.json"));
        Map<String, Object> result = BackupSummary.fromManifest(json, backupDir).toMap();

        Map<?, ?> manifest = (Map<?, ?>) Json.parse(json);
        List<String> listed = new ArrayList<>();
        long bytes = 0;
        try (Stream<Path> files = Files.list(backup)) {
            for (Path file : files.toList()) {
                String name = file.getFileName().toString();
                if (!name.equals("manifest.json") && !name.equals("virt-backup.log") && !name.endsWith(".chunks")) {
                    listed.add(name);
                    bytes += Files.size(file);
                }
            }
        }
        assertThat(result.get("domain")).isEqualTo(domain).isEqualTo(((Map<?, ?>) manifest.get("domain")).get("name"));
        assertThat(result.get("mode")).isEqualTo(mode).isEqualTo(manifest.get("mode"));
        assertThat(result.get("result")).isEqualTo("complete");
        assertThat(result.get("backupDir")).isEqualTo(backupDir);
        assertThat(files(result)).containsExactlyInAnyOrderElementsOf(listed);
        assertThat(result.get("bytes")).isEqualTo(bytes);
        assertThat(result.get("downtimeMs")).isEqualTo(manifest.get("downtimeMs"));
        assertThat(result.get("start")).isEqualTo(manifest.get("start"));
        assertThat(result.get("level")).as("a full backup, on the test driver").isEqualTo("full")
                .isEqualTo(manifest.get("level")).isEqualTo(run.result.level());
        assertThat(result.get("parent")).isNull();
        assertThat(run.result.parent()).isNull();
        for (String file : BackupRunner.artifacts(domain, backup.getFileName().toString()).values()) {
            assertThat(backup.resolve(file)).as("archived file").isRegularFile();
        }
        return result;
    }

    @SuppressWarnings("unchecked")
    private static List<String> files(Map<String, Object> result) {
        return (List<String>) result.get("files");
    }

    private record Run(BackupOptions options, int code, EngineConsole console, String output, RunResult result) {
    }

    private Run run(BackupOptions options) throws Exception {
        assertThat(options.problems()).isEmpty();
        return start(options);
    }

    /** The engine with these options' arguments, whatever {@link BackupOptions#problems} says of them. */
    private Run start(BackupOptions options) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", JAR.toString()));
        // As the step does: an empty file of its own, which the engine replaces with its result.
        Files.createDirectories(dir.resolve("ws@tmp"));
        Path resultFile = Files.createTempFile(dir.resolve("ws@tmp"), "virt-backup-result", ".json");
        command.addAll(options.cliArguments(resultFile.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).directory(dir.toFile());
        // Locks and journals of these runs stay in the test's folder, not in the machine's /var/lib.
        builder.environment().put("VIRT_BACKUP_STATE_DIR", dir.resolve("state").toString());
        builder.environment().remove("LIBVIRT_DEFAULT_URI");
        builder.environment().put(NativeSyslog.SOCKET_ENV, dir.resolve("no-syslog.sock").toString());
        Process process = builder.start();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        EngineConsole console = new EngineConsole(log);
        process.getInputStream().transferTo(console);
        console.close();
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Run(options, process.exitValue(), console, log.toString(StandardCharsets.UTF_8),
                RunResult.parse(Files.readString(resultFile)));
    }
}
