package io.jenkins.plugins.virtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.testing.TmpfsMount;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad input corpus, through the command line: each case exits with its documented code and
 * one clear error line, and writes nothing (an earlier backup in the same root stays as it was).
 * Prints a table of case, exit code and message.
 */
class BadInputCorpusTest {
    private static final List<String> TABLE = new ArrayList<>();

    @TempDir
    Path dir;
    String uri;
    Path root;

    @BeforeEach
    void setUp() throws Exception {
        TestDriverNode node = new TestDriverNode(dir.resolve("images"));
        Path image = node.rawImage("web.raw", 4 << 20, 1 << 20, 3);
        uri = node
                .domain("web", RunState.RUNNING, true, TestDriverNode.fileDisk("vda", image, "raw"),
                        TestDriverNode.emptyCdrom("hdc"), TestDriverNode.networkDisk("vdc"))
                .domain("transient", RunState.RUNNING, false, TestDriverNode.fileDisk("vda", image, "raw"))
                .domain("paused", RunState.PAUSED, true, TestDriverNode.fileDisk("vda", image, "raw"))
                .write();
        root = dir.resolve("backups");
        assertThat(run("-c", uri, "-d", root.toString(), "web").code).isZero();
    }

    private record Result(int code, List<String> lines) {
    }

    private Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> withState = new ArrayList<>(List.of(args));
        withState.addAll(List.of("--state-dir", dir.resolve("state").toString()));
        int code = VirtBackupCommand.execute(new VirtBackupCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                SyslogSink.NONE), withState.toArray(String[]::new), new PrintStream(err, true, StandardCharsets.UTF_8));
        List<String> lines = new ArrayList<>(out.toString(StandardCharsets.UTF_8).lines().toList());
        lines.addAll(err.toString(StandardCharsets.UTF_8).lines().toList());
        return new Result(code, lines);
    }

    /** Runs a case that must fail with {@code code} and one line containing {@code text}, writing nothing. */
    private void expect(String name, int code, String text, String... args) throws Exception {
        Map<String, String> before = Trees.snapshot(root);
        Result result = run(args);
        assertThat(result.code).as(name + ": " + result.lines).isEqualTo(code);
        List<String> errors = result.lines.stream().filter(l -> l.contains("error")).toList();
        assertThat(errors).as(name).hasSize(1);
        assertThat(errors.get(0)).as(name).contains(text);
        assertThat(Trees.snapshot(root)).as(name + ": nothing written, earlier backup intact").isEqualTo(before);
        TABLE.add("| " + name + " | " + code + " | " + errors.get(0).replace("|", "\\|") + " |");
    }

    @Test
    void corpus() throws Exception {
        String r = root.toString();
        expect("unknown domain", 3, "domain 'nosuch' not found", "-c", uri, "-d", r, "nosuch");
        expect("unknown disk", 3, "has no disk 'sdz'", "-c", uri, "-d", r, "web", "sdz");
        expect("malformed URI", 4, "cannot connect to", "-c", "::not a uri::", "-d", r, "web");
        expect("unreachable hypervisor", 4, "cannot connect to", "-c", "qemu+tcp://127.0.0.1:1/system", "-d", r, "web");
        expect("name with /", 2, "cannot be used as a directory name", "-c", uri, "-d", r, "../web");
        expect("name ..", 2, "cannot be used as a directory name", "-c", uri, "-d", r, "..");
        expect("unknown name with spaces, quotes, unicode", 3, "not found", "-c", uri, "-d", r, "we b \"q\" 'é' ü");
        expect("unknown mode", 2, "unknown mode", "-c", uri, "-d", r, "-b", "hibernate", "web");
        expect("unknown level", 2, "unknown level 'weekly'; the levels are: full, inc, diff, auto", "-c", uri, "-d",
                r, "-b", "live", "--level", "weekly", "web");
        expect("level inc outside live mode", 2, "--level inc needs mode live", "-c", uri, "-d", r, "-b",
                "suspend", "-l", "inc", "web");
        expect("level diff, no chain to extend", 8, "cannot back up domain 'web' at level diff", "-c", uri, "-d", r,
                "-b", "live", "-l", "diff", "web");
        expect("snapshot size outside snapshot-dm", 2, "--snapshot-size applies to mode snapshot-dm only",
                "-c", uri, "-d", r, "-b", "suspend", "--snapshot-size", "2G", "web");
        expect("snapshot size not a size", 2, "--snapshot-size: 'lots' is not a size", "-c", uri, "-d", r, "-b",
                "snapshot-dm", "--snapshot-size", "lots", "web");
        expect("snapshot size zero", 2, "--snapshot-size: it must be more than 0", "-c", uri, "-d", r, "-b",
                "snapshot-dm", "--snapshot-size", "0M", "web");
        expect("snapshot-dm side by side", 2, "snapshot-dm backs up one domain at a time", "-c", uri, "-d", r,
                "-b", "snapshot-dm", "--all", "--parallel", "2");
        expect("cdrom requested", 2, "it is a cdrom", "-c", uri, "-d", r, "web", "hdc");
        expect("network disk requested", 2, "of type 'network'", "-c", uri, "-d", r, "web", "vdc");
        expect("transient domain, shutdown mode", 1, "transient", "-c", uri, "-d", r, "-b", "shutdown", "transient");
        expect("paused domain, shutdown mode", 1, "is paused", "-c", uri, "-d", r, "-b", "shutdown", "paused");
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        expect("DIR is a file", 1, "Not a directory", "-c", uri, "-d", file.toString(), "web");
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Files.createSymbolicLink(root.resolve("transient"), elsewhere);
        expect("DIR/DOMAIN is a symlink to elsewhere", 1, "is a symbolic link", "-c", uri, "-d", r, "transient");
        assertThat(elsewhere).isEmptyDirectory();
        try (TmpfsMount readOnly = TmpfsMount.mount(dir.resolve("ro"), "size=8m")) {
            readOnly.remountReadOnly();
            expect("read-only DIR", 1, "Read-only file system", "-c", uri, "-d", readOnly.dir().toString(), "web");
        }
        try (TmpfsMount small = TmpfsMount.mount(dir.resolve("small"), "size=1m")) {
            expect("DIR on a full file system", 1, "not enough space", "-c", uri, "-d", small.dir().toString(), "web");
        }
    }

    /** The restore's bad input: each exits with its code and one line, and writes nothing anywhere. */
    @Test
    void restoreCorpus() throws Exception {
        String backup;
        try (var backups = Files.list(root.resolve("web"))) {
            backup = backups.findFirst().orElseThrow().toString();
        }
        Path target = dir.resolve("restored");
        expect("restore: no such backup", 2, "is not a directory", "restore", "-c", uri, dir.resolve("nosuch").toString());
        expect("restore: a folder that is no backup", 2, "is not a complete backup", "restore", "-c", uri, root.toString());
        expect("restore: over the running original", 9, "domain 'web'", "restore", "-c", uri, backup);
        expect("restore: a copy whose name is no name", 2, "cannot be used as a directory name", "restore", "-c", uri,
                "--name", "../web", "--disk-dir", target.toString(), backup);
        Files.createDirectories(target);
        Files.writeString(target.resolve("copy-vda.raw"), "precious");
        expect("restore: a file where a disk goes", 9, "exists already", "restore", "-c", uri, "--name", "copy",
                "--disk-dir", target.toString(), backup);
        assertThat(Files.readString(target.resolve("copy-vda.raw"))).isEqualTo("precious");
        try (var files = Files.list(target)) {
            assertThat(files.toList()).as("nothing else written").containsExactly(target.resolve("copy-vda.raw"));
        }
        expect("restore: unreachable hypervisor", 4, "cannot connect to", "restore", "-c",
                "qemu+tcp://127.0.0.1:1/system", backup);
        expect("restore --test with --name", 2, "--name and --start do not go with it", "restore", "--test",
                "--name", "x", backup);
        expect("restore --test, a timeout of 0", 2, "--timeout must be a positive", "restore", "--test",
                "--timeout", "0", backup);
        expect("restore --test, a bad console pattern", 2, "--console-pattern", "restore", "--test",
                "--console-pattern", "([", backup);
        expect("restore --test, an unknown proof", 2, "unknown --proof 'ping'", "restore", "--test", "--proof", "ping",
                backup);
        expect("restore --test, a proof the domain cannot give", 2, "has no guest agent channel", "restore", "--test",
                "-c", uri, "--proof", "agent", "--disk-dir", dir.resolve("scratch").toString(), backup);
        assertThat(dir.resolve("scratch")).doesNotExist();
    }

    /** Prune's bad input, and a backup's bad --keep count: nothing is removed or written. */
    @Test
    void pruneCorpus() throws Exception {
        String r = root.toString();
        expect("prune: no DOMAIN", 2, "no DOMAIN given (or --all)", "prune", "-d", r, "--keep-last", "1");
        expect("prune: --all and a DOMAIN", 2, "--all prunes every domain: name none", "prune", "-d", r, "--all",
                "--keep-last", "1", "web");
        expect("prune: a negative count", 2, "cannot be negative", "prune", "-d", r, "--keep-daily", "-1", "web");
        expect("prune: a name with /", 2, "cannot be used as a directory name", "prune", "-d", r, "--keep-last", "1",
                "../web");
        expect("prune: a domain without backups", 3, "no backups in", "prune", "-d", r, "--keep-last", "1", "nosuch");
        expect("backup: a negative --keep count", 2, "cannot be negative", "-c", uri, "-d", r, "--keep-last", "-2",
                "web");
    }

    @Test
    void pruneKeepsWhatItsRulesSayAndABackupRunPrunesAfterItself() throws Exception {
        String r = root.toString();
        for (int i = 0; i < 2; i++) {
            assertThat(run("-c", uri, "-d", r, "web").code).isZero();
        }
        assertThat(backupsOfWeb()).hasSize(3);

        Result dryRun = run("prune", "-d", r, "--keep-last", "1", "--dry-run", "web");
        assertThat(dryRun.code).isZero();
        assertThat(dryRun.lines).anyMatch(l -> l.contains("would remove"));
        assertThat(backupsOfWeb()).hasSize(3);

        Result pruned = run("prune", "-d", r, "--keep-last", "2", "web");
        assertThat(pruned.code).as(pruned.lines.toString()).isZero();
        assertThat(backupsOfWeb()).hasSize(2);

        Result backupAndPrune = run("-c", uri, "-d", r, "--keep-last", "1", "web");
        assertThat(backupAndPrune.code).as(backupAndPrune.lines.toString()).isZero();
        assertThat(backupsOfWeb()).hasSize(1);
        assertThat(backupAndPrune.lines).anyMatch(l -> l.contains("1 kept, 2 removed"));
    }

    private List<Path> backupsOfWeb() throws Exception {
        try (var entries = Files.list(root.resolve("web"))) {
            return entries.filter(Files::isDirectory).toList();
        }
    }

    @AfterAll
    static void printTable() {
        System.out.println("\n| bad input | exit | message |\n|---|---|---|");
        TABLE.forEach(System.out::println);
    }
}
