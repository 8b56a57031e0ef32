package io.jenkins.plugins.virtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import io.jenkins.plugins.virtbackup.engine.BackupRequest;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.Severity;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.store.BackupVerifier;
import io.jenkins.plugins.virtbackup.engine.store.Json;
import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.QemuImages;
import io.jenkins.plugins.virtbackup.testing.SparseFile;
import io.jenkins.plugins.virtbackup.testing.TmpfsMount;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line, parsed and run in this JVM against libvirt's test driver. */
class VirtBackupCommandTest {
    @TempDir
    Path dir;
    String uri;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final List<String> syslog = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        TestDriverNode node = new TestDriverNode(dir.resolve("images"));
        uri = node.domain("web", RunState.RUNNING, true,
                TestDriverNode.fileDisk("vda", node.rawImage("web.raw", 4 << 20, 1 << 20, 3), "raw")).write();
    }

    private int run(String... args) {
        VirtBackupCommand command = new VirtBackupCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                (Severity severity, String message) -> syslog.add(severity + " " + message));
        // Locks and journals go to this test's folder, never to the machine's /var/lib/virt-backup.
        String[] withState = java.util.Arrays.copyOf(args, args.length + 2);
        withState[args.length] = "--state-dir";
        withState[args.length + 1] = dir.resolve("state").toString();
        return VirtBackupCommand.execute(command, args.length == 0 ? args : withState,
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void backsUpQuietlyWithStartAndEndOnly() throws Exception {
        Path backups = dir.resolve("backups");

        assertThat(run("-c", uri, "-d", backups.toString(), "web")).isZero();

        assertThat(stdout().lines()).hasSize(2);
        assertThat(stdout()).startsWith("virt-backup: backup of domain 'web' started: mode suspend")
                .contains("virt-backup: backup of domain 'web' complete");
        assertThat(syslog).hasSize(2);
        try (Stream<Path> backupsOfWeb = Files.list(backups.resolve("web"))) {
            assertThat(backupsOfWeb.toList()).singleElement()
                    .satisfies(b -> assertThat(b.resolve("manifest.json")).exists());
        }
    }

    @Test
    void verifyAsksTheEngineToReadTheBackupBack() throws Exception {
        assertThat(parse("web").readBack()).as("off by default").isFalse();
        assertThat(parse("--verify", "web").readBack()).isTrue();
        assertThat(parse("--verify", "-b", "shutdown", "--force-off", "web"))
                .extracting(BackupRequest::readBack, BackupRequest::forceOff).containsExactly(true, true);
    }

    @Test
    void theLevelReachesTheEnginesRequest() throws Exception {
        assertThat(parse("web").level()).as("full by default").isEqualTo(BackupLevel.FULL);
        for (BackupLevel level : BackupLevel.values()) {
            assertThat(parse("-b", "live", "-l", level.cliName(), "web").level()).isEqualTo(level);
            assertThat(parse("--level", level.cliName(), "-b", "live", "web").level()).isEqualTo(level);
        }
        assertThat(parse("--level=diff", "-b", "live", "--verify", "web"))
                .extracting(BackupRequest::level, BackupRequest::mode, BackupRequest::readBack)
                .containsExactly(BackupLevel.DIFF, BackupMode.LIVE, true);
    }

    @Test
    void compressReachesTheEnginesRequest() throws Exception {
        assertThat(parse("web").compress()).as("off by default").isFalse();
        assertThat(parse("--compress", "-b", "live", "-l", "inc", "web"))
                .extracting(BackupRequest::compress, BackupRequest::level).containsExactly(true, BackupLevel.INC);
        assertThat(parse("--compress", "web").withLevel(BackupLevel.DIFF).compress()).as("kept by withLevel").isTrue();
    }

    /**
     * The compression round trip through the command line: a domain with a raw and a qcow2 disk
     * of half-compressible data backed up with --compress (each disk a qcow2 with zstd clusters,
     * read back with --verify), then restored with 'virt-backup restore' as a copy whose disks are
     * plain images of their own formats, equal to the sources.
     */
    @Test
    void aCompressedBackupRestoresToDisksEqualToTheSources() throws Exception {
        TestDriverNode node = new TestDriverNode(dir.resolve("db-images"));
        Path raw = SparseFile.create(node.dir().resolve("db-root.raw"), 8 << 20).halfCompressible(0, 2 << 20)
                .halfCompressible(6 << 20, 1 << 20).synced();
        Path dataRaw = SparseFile.create(dir.resolve("db-data.raw"), 8 << 20).halfCompressible(1 << 20, 2 << 20)
                .synced();
        Path qcow2 = node.dir().resolve("db-data.qcow2");
        Host.run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", dataRaw.toString(), qcow2.toString());
        String dbUri = node.domain("db", RunState.RUNNING, true, TestDriverNode.fileDisk("vda", raw, "raw"),
                TestDriverNode.fileDisk("vdb", qcow2, "qcow2")).write();
        Path backups = dir.resolve("backups");

        assertThat(run("-c", dbUri, "-d", backups.toString(), "--compress", "--verify", "db")).as(stdout()).isZero();

        Path backup;
        try (Stream<Path> found = Files.list(backups.resolve("db"))) {
            backup = found.toList().get(0);
        }
        Map<?, ?> manifest = Json.object(Files.readString(backup.resolve("manifest.json")));
        List<String> compressed = new ArrayList<>();
        for (Object file : (List<?>) manifest.get("files")) {
            if ("zstd".equals(((Map<?, ?>) file).get("compression"))) {
                compressed.add((String) ((Map<?, ?>) file).get("name"));
            }
        }
        assertThat(compressed).as("compressed files in the manifest").containsExactly("vda.qcow2", "vdb.qcow2");
        assertThat(manifest.get("format")).isEqualTo(2L);
        for (String name : compressed) {
            assertThat(QemuImages.compressionType(backup.resolve(name))).isEqualTo("zstd");
            assertThat(QemuImages.compressedClusters(backup.resolve(name))).as(name + ": its text clusters")
                    .isEqualTo(name.equals("vda.qcow2") ? 24 : 16);
        }
        assertThat(backup.resolve("vda.raw")).as("the raw disk became a qcow2").doesNotExist();
        assertThat(backup.resolve("memory.state")).exists();
        try (BackupLog log = new BackupLog(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                false, SyslogSink.NONE)) {
            assertThat(new BackupVerifier(log, new LinuxFileExtents()).verify(backup)).as("virt-backup verify")
                    .isEqualTo(ExitStatus.OK);
        }

        Path restored = dir.resolve("restored");
        out.reset();
        assertThat(run("restore", "-c", dbUri, "--name", "db-copy", "--disk-dir", restored.toString(),
                backup.toString())).as(stdout()).isZero();

        Path vda = restored.resolve("db-copy-vda.raw");
        Path vdb = restored.resolve("db-copy-vdb.qcow2");
        assertThat(Host.run("qemu-img", "compare", "-f", "raw", "-F", "raw", raw.toString(), vda.toString()))
                .contains("Images are identical");
        assertThat(QemuImages.sameContent(qcow2, vdb)).isTrue();
        assertThat(QemuImages.compressedClusters(vdb)).as("a restored disk is a plain image").isZero();
    }

    /** The request the options make, as the run would hand it to the engine. */
    private BackupRequest parse(String... args) throws Exception {
        VirtBackupCommand command = new VirtBackupCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                (Severity severity, String message) -> syslog.add(severity + " " + message));
        new CommandLine(command).parseArgs(args);
        return command.request();
    }

    @Test
    void theResultFileNamesTheCompleteBackup() throws Exception {
        Path backups = dir.resolve("backups");
        Path result = dir.resolve("result.json");

        assertThat(run("-c", uri, "-d", backups.toString(), "--result-file", result.toString(), "web")).isZero();

        Path backup;
        try (Stream<Path> backupsOfWeb = Files.list(backups.resolve("web"))) {
            backup = backupsOfWeb.toList().get(0);
        }
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("status", 0L);
        expected.put("backup", backup.toAbsolutePath().toString());
        expected.put("domain", "web");
        expected.put("level", "full");
        expected.put("parent", null);
        assertThat(Json.parse(Files.readString(result))).asInstanceOf(InstanceOfAssertFactories.MAP)
                .containsExactlyEntriesOf(expected);
        assertThat(backup.resolve("manifest.json")).exists();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).as("no temporary file left beside it")
                    .containsExactlyInAnyOrder("images", "state", "backups", "result.json");
        }
    }

    @Test
    void theResultFileOfAFailedRunHasItsStatusAndNoBackup() throws Exception {
        Path result = dir.resolve("result.json");
        Files.writeString(result, "what an earlier run wrote");

        assertThat(run("-c", uri, "-d", dir.resolve("b").toString(), "--result-file", result.toString(), "nosuch"))
                .isEqualTo(3);

        Map<String, Object> expected = new HashMap<>();
        expected.put("status", 3L);
        expected.put("backup", null);
        expected.put("domain", "nosuch");
        expected.put("level", null);
        expected.put("parent", null);
        assertThat(Json.parse(Files.readString(result))).isEqualTo(expected);

        assertThat(run("-c", uri, "--result-file", result.toString())).as("no DOMAIN").isEqualTo(2);
        expected.put("status", 2L);
        expected.put("domain", null);
        assertThat(Json.parse(Files.readString(result))).isEqualTo(expected);
    }

    @Test
    void aResultFileThatCannotBeWrittenIsAUsageErrorBeforeAnythingIsTouched() {
        Path nowhere = dir.resolve("no-such-folder").resolve("result.json");

        assertThat(run("-c", uri, "-d", dir.resolve("b").toString(), "--result-file", nowhere.toString(), "web"))
                .isEqualTo(2);

        assertThat(stdout()).isEqualTo("virt-backup: error: --result-file: " + nowhere.getParent()
                + " is not a folder this run can write to\n");
        assertThat(dir.resolve("b")).doesNotExist();
        assertThat(nowhere.getParent()).doesNotExist();
    }

    @Test
    void verboseAddsDetailsOnStdoutButNotToSyslog() {
        assertThat(run("-v", "-c", uri, "-d", dir.resolve("b").toString(), "--mode", "shutdown", "web")).isZero();

        assertThat(stdout()).contains("asking domain 'web' to shut down").contains("copying disk vda");
        assertThat(syslog).hasSize(2).noneMatch(line -> line.contains("copying"));
    }

    @Test
    void usageAndVersionAndManual() {
        assertThat(run("-h")).isZero();
        assertThat(stdout()).contains("Usage: virt-backup", "DOMAIN", "BLKDEV", "--mode", "--level", "Exit codes:");
        for (ExitStatus status : ExitStatus.values()) {
            assertThat(stdout()).as("usage lists exit code " + status)
                    .containsPattern("(?m)^ +" + status.code() + " +\\S");
        }
        out.reset();

        assertThat(run("-V")).isZero();
        assertThat(stdout()).startsWith("virt-backup ");
        out.reset();

        assertThat(run("-m")).isZero();
        String manual = stdout();
        for (String option : new String[] {"-h, --help", "-m, --manual", "-V, --version", "-c, --connect", "-b, --mode",
                "-l, --level",
                "-d, --dir", "--error-log", "--shutdown-timeout", "--quiesce", "--force-off", "--verify", "--compress",
                "--state-dir", "--overlay-dir", "--result-file", "-v, --verbose", "--all", "--exclude PATTERN",
                "--parallel N"}) {
            assertThat(manual).as("manual documents " + option).contains("    " + option);
        }
        for (String section : new String[] {"BACKUP MODES", "BACKUP LAYOUT", "RESTORE", "MANY DOMAINS", "LOGGING",
                "EXIT CODES", "EXAMPLES",
                "shutdown\n", "suspend (default)\n", "snapshot-libvirt\n", "snapshot-dm\n", "live\n"}) {
            assertThat(manual).contains(section);
        }
        for (ExitStatus status : ExitStatus.values()) {
            assertThat(manual).as("manual documents exit code " + status).contains(String.format("%n    %-4d", status.code()));
        }
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertThat(run()).isEqualTo(2);
        assertThat(stdout()).isEqualTo("virt-backup: error: no DOMAIN given (see virt-backup -h)\n");
        out.reset();

        assertThat(run("--bogus", "web")).isEqualTo(2);
        assertThat(stderr()).contains("Unknown option: '--bogus'");

        assertThat(run("-c", uri, "-b", "hibernate", "web")).isEqualTo(2);
        assertThat(stdout()).isEqualTo(
                "virt-backup: error: unknown mode 'hibernate'; the modes are: shutdown, suspend, snapshot-libvirt, "
                        + "snapshot-dm, live\n");
        out.reset();

        assertThat(run("-c", uri, "-d", dir.resolve("b").toString(), "-b", "live", "-l", "partial", "web"))
                .isEqualTo(2);
        assertThat(stdout()).isEqualTo("virt-backup: error: unknown level 'partial'; the levels are: full, inc, diff, "
                + "auto\n");
        assertThat(dir.resolve("b")).doesNotExist();
        out.reset();

        assertThat(run("-c", uri, "--shutdown-timeout", "0", "web")).isEqualTo(2);
        assertThat(run("-c", uri, "--shutdown-timeout", "soon", "web")).isEqualTo(2);
    }

    @Test
    void aBadUriIsAnUnreachableHypervisor() {
        assertThat(run("-c", "nosuchdriver:///x", "-d", dir.resolve("b").toString(), "web")).isEqualTo(4);

        assertThat(stdout().lines()).singleElement().asString()
                .startsWith("virt-backup: error: cannot connect to nosuchdriver:///x:");
        assertThat(dir.resolve("b")).doesNotExist();
    }

    @Test
    void anUnknownDomainExitsWithThreeAndWritesNothing() {
        assertThat(run("-c", uri, "-d", dir.resolve("b").toString(), "nosuch")).isEqualTo(3);

        assertThat(stdout()).isEqualTo("virt-backup: error: domain 'nosuch' not found\n");
        assertThat(syslog).containsExactly("ERROR domain 'nosuch' not found");
        assertThat(dir.resolve("b")).doesNotExist();
    }

    @Test
    void libvirtErrorReportsGoToTheSeparateErrorLogOnlyWhenThereAreAny() throws Exception {
        Path errorLog = dir.resolve("errors.log");
        assertThat(run("-c", uri, "-d", dir.resolve("b").toString(), "--error-log", errorLog.toString(), "nosuch"))
                .isEqualTo(3);
        assertThat(errorLog).as("no libvirt failure, no error log").doesNotExist();

        // Room for the directories, the run log and domain.xml, not for memory.state: libvirt's save fails.
        try (TmpfsMount target = TmpfsMount.mount(dir.resolve("full"), "size=64m,nr_inodes=6")) {
            assertThat(run("-c", uri, "-d", target.dir().toString(), "--error-log", errorLog.toString(), "web"))
                    .isEqualTo(1);
        }
        assertThat(stdout()).contains("virt-backup: error: cannot save the state of domain 'web'");
        assertThat(Files.readString(errorLog)).contains("[libvirt] libvirt: save state to").contains("code VIR_ERR_");
    }
}
