package io.jenkins.plugins.virtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import io.jenkins.plugins.virtbackup.engine.batch.BatchResult;
import io.jenkins.plugins.virtbackup.engine.batch.BatchResult.DomainResult;
import io.jenkins.plugins.virtbackup.engine.log.Severity;
import io.jenkins.plugins.virtbackup.engine.recovery.DomainLock;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.testing.ProcessTestNode;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code virt-backup --all} against libvirt's test driver: every domain but the excluded ones, each
 * with its own backup, one domain's failure leaving the others to complete, the summary table, the
 * worst exit code and one result per domain.
 */
class AllDomainsTest {
    @TempDir
    Path dir;
    String uri;
    Path backups;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final List<String> syslog = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void setUp() throws Exception {
        TestDriverNode node = new TestDriverNode(dir.resolve("images"));
        uri = node
                .domain("web", RunState.RUNNING, true, disk(node, "web"))
                .domain("off", RunState.SHUT_OFF, true, disk(node, "off"))
                .domain("paused", RunState.PAUSED, true, disk(node, "paused"))
                .domain("scratch-1", RunState.RUNNING, false, disk(node, "scratch-1"))
                .domain("scratch-22", RunState.RUNNING, true, disk(node, "scratch-22"))
                .write();
        backups = dir.resolve("backups");
    }

    private static String disk(TestDriverNode node, String name) throws IOException {
        return TestDriverNode.fileDisk("vda", node.rawImage(name + ".raw", 4 << 20, 1 << 20, name.hashCode()), "raw");
    }

    private int run(String... args) {
        VirtBackupCommand command = new VirtBackupCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                (Severity severity, String message) -> syslog.add(severity + " " + message));
        List<String> withState = new ArrayList<>(List.of(args));
        withState.addAll(List.of("--state-dir", dir.resolve("state").toString()));
        return VirtBackupCommand.execute(command, withState.toArray(String[]::new),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private List<String> stdout() {
        return out.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private List<String> backupsOf(String domain) throws IOException {
        Path folder = backups.resolve(domain);
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> found = Files.list(folder)) {
            return found.map(p -> p.getFileName().toString()).toList();
        }
    }

    /** --keep-* prunes each domain's folder once its backup is complete; a restore test's clone is never backed up. */
    @Test
    void eachDomainIsPrunedAfterItsBackupAndRestoreTestClonesAreLeftOut() throws Exception {
        TestDriverNode node = new TestDriverNode(dir.resolve("images2"));
        String twoAndAClone = node.domain("web", RunState.RUNNING, true, disk(node, "web"))
                .domain("db", RunState.RUNNING, true, disk(node, "db"))
                .domain("web-restore-test-0badc0de", RunState.RUNNING, false, disk(node, "clone"))
                .write();
        for (int i = 0; i < 2; i++) {
            assertThat(run("-c", twoAndAClone, "-d", backups.toString(), "--all")).isZero();
        }
        assertThat(backupsOf("web")).hasSize(2);

        int code = run("-c", twoAndAClone, "-d", backups.toString(), "--all", "--keep-last", "1");

        assertThat(code).as(stdout().toString()).isZero();
        assertThat(backupsOf("web")).hasSize(1);
        assertThat(backupsOf("db")).hasSize(1);
        assertThat(backupsOf("web-restore-test-0badc0de")).isEmpty();
        assertThat(stdout()).anyMatch(l -> l.contains("backup of 2 domain(s) started, 1 at a time: db, web"))
                .anyMatch(l -> l.contains("1 kept, 2 removed"));
    }

    @Test
    void aPausedDomainFailingInShutdownModeLeavesTheOthersToComplete() throws Exception {
        Path result = dir.resolve("result.json");

        int code = run("-c", uri, "-d", backups.toString(), "-b", "shutdown", "--all", "--exclude", "scratch-*",
                "--result-file", result.toString());

        assertThat(code).as(String.join("\n", stdout())).isEqualTo(1);
        for (String complete : List.of("web", "off")) {
            assertThat(backupsOf(complete)).as(complete).singleElement().asString().doesNotEndWith(".partial");
        }
        assertThat(backups.resolve("paused")).as("refused before anything was written").doesNotExist();
        assertThat(backups.resolve("scratch-1")).doesNotExist();
        assertThat(backups.resolve("scratch-22")).doesNotExist();

        List<String> lines = stdout();
        assertThat(lines.get(0)).isEqualTo("virt-backup: backup of 3 domain(s) started, 1 at a time: off, paused, web");
        assertThat(lines).contains("virt-backup: error: domain 'paused' is paused and cannot shut down; use mode "
                + "suspend, or resume it first");
        assertThat(lines).last().asString().isEqualTo(
                "virt-backup: error: backup of 3 domain(s): 2 complete, 1 failed (paused: exit 1); exit code 1");
        assertThat(table(lines)).containsExactly(
                List.of("DOMAIN", "EXIT", "MEANING", "DURATION", "BACKUP OR ERROR"),
                List.of("off", "0", "complete", "*", backups.resolve("off").resolve(backupsOf("off").get(0))
                        .toAbsolutePath().toString()),
                List.of("paused", "1", "failed, domain as found", "*", "domain 'paused' is paused and cannot shut "
                        + "down; use mode suspend, or resume it first"),
                List.of("web", "0", "complete", "*", backups.resolve("web").resolve(backupsOf("web").get(0))
                        .toAbsolutePath().toString()));
        assertThat(syslog).as("each domain's start and end, the run's start and end")
                .contains("INFO backup of 3 domain(s) started, 1 at a time: off, paused, web",
                        "ERROR domain 'paused' is paused and cannot shut down; use mode suspend, or resume it first",
                        "ERROR backup of 3 domain(s): 2 complete, 1 failed (paused: exit 1); exit code 1")
                .anyMatch(line -> line.startsWith("INFO backup of domain 'web' complete"))
                .anyMatch(line -> line.startsWith("INFO backup of domain 'off' complete"));

        BatchResult written = BatchResult.parse(Files.readString(result));
        assertThat(written.status()).isEqualTo(1);
        assertThat(written.domains()).extracting(DomainResult::domain, DomainResult::status, DomainResult::level)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("off", 0, "full"),
                        org.assertj.core.groups.Tuple.tuple("paused", 1, null),
                        org.assertj.core.groups.Tuple.tuple("web", 0, "full"));
        assertThat(written.domains().get(1).error()).contains("is paused");
        assertThat(written.domains().get(1).backup()).isNull();
        assertThat(Path.of(written.domains().get(2).backup()).resolve("manifest.json")).exists();
    }

    /** The summary table's rows, cells split at runs of two or more blanks; durations as "*". */
    private static List<List<String>> table(List<String> lines) {
        List<List<String>> rows = new ArrayList<>();
        boolean inTable = false;
        for (String line : lines) {
            inTable |= line.startsWith("DOMAIN ");
            if (inTable && !line.startsWith("virt-backup: ")) {
                List<String> cells = new ArrayList<>(List.of(line.split(" {2,}")));
                if (rows.size() > 0) {
                    assertThat(cells.get(3)).matches("\\d+\\.\\d s");
                    cells.set(3, "*");
                }
                rows.add(cells);
            }
        }
        return rows;
    }

    @Test
    void theExitCodeIsTheWorstOfTheDomains() throws Exception {
        StateDirectory state = new StateDirectory(dir.resolve("state"));
        // Another run holds 'off': it is busy (6), which is less bad than a failed backup (1).
        try (DomainLock held = DomainLock.acquire(state, uri, "off", "backup")) {
            assertThat(run("-c", uri, "-d", backups.toString(), "--all", "--exclude", "paused", "--exclude",
                    "scratch-*")).isEqualTo(6);
            assertThat(stdout()).last().asString().endsWith("1 failed (off: exit 6); exit code 6");
            out.reset();

            assertThat(run("-c", uri, "-d", backups.toString(), "-b", "shutdown", "--all", "--exclude", "scratch-*"))
                    .isEqualTo(1);
            assertThat(stdout()).last().asString().endsWith("2 failed (off: exit 6, paused: exit 1); exit code 1");
        }
        assertThat(backupsOf("web")).hasSize(2);
        assertThat(backupsOf("off")).isEmpty();
    }

    @Test
    void excludePatternsAreShellStyleOverWholeNames() throws Exception {
        assertThat(run("-c", uri, "-d", backups.toString(), "--all", "--exclude", "scratch-?", "--exclude", "o*",
                "--exclude", "web?", "--exclude", "paus")).isZero();

        try (Stream<Path> folders = Files.list(backups)) {
            assertThat(folders.map(p -> p.getFileName().toString()))
                    .as("? is one character, * any run; a pattern matches the whole name")
                    .containsExactlyInAnyOrder("paused", "scratch-22", "web");
        }
        assertThat(stdout()).contains("virt-backup: --exclude 'web?' matches no domain",
                "virt-backup: --exclude 'paus' matches no domain");
        assertThat(stdout().get(2)).isEqualTo(
                "virt-backup: backup of 3 domain(s) started, 1 at a time: paused, scratch-22, web");
        assertThat(stdout()).last().asString().isEqualTo("virt-backup: backup of 3 domain(s): 3 complete");
    }

    @Test
    void excludingEveryDomainLeavesNothingToBackUp() throws Exception {
        Path result = dir.resolve("result.json");

        assertThat(run("-c", uri, "-d", backups.toString(), "--all", "--exclude", "*", "--result-file",
                result.toString())).isEqualTo(3);

        assertThat(stdout()).containsExactly(
                "virt-backup: error: no domain to back up: --exclude leaves out all 5 of them");
        assertThat(backups).doesNotExist();
        assertThat(BatchResult.parse(Files.readString(result))).isEqualTo(new BatchResult(3, List.of()));
    }

    @Test
    void twoAtOnceTheSmallDomainCompletesWhileTheBigOneIsCopied() throws Exception {
        String bigAndWeb = ProcessTestNode.webAndBig(dir.resolve("big-images"));

        assertThat(run("-c", bigAndWeb, "-d", backups.toString(), "--all", "--parallel", "2")).isZero();

        List<String> lines = stdout();
        List<String> domainLines = lines.stream().filter(l -> l.startsWith("[")).toList();
        assertThat(domainLines).as("every line of a domain's run names it").allMatch(
                l -> l.startsWith("[big] virt-backup: ") || l.startsWith("[web] virt-backup: "));
        assertThat(domainLines).hasSize(4);
        int webComplete = lines.indexOf(lines.stream()
                .filter(l -> l.startsWith("[web] virt-backup: backup of domain 'web' complete")).findFirst().orElseThrow());
        int bigComplete = lines.indexOf(lines.stream()
                .filter(l -> l.startsWith("[big] virt-backup: backup of domain 'big' complete")).findFirst().orElseThrow());
        assertThat(webComplete).as("web, listed second, ran beside big and ended first").isLessThan(bigComplete);
        for (String domain : List.of("big", "web")) {
            Path backup = backups.resolve(domain).resolve(backupsOf(domain).get(0));
            assertThat(Files.readString(backup.resolve("virt-backup.log"))).as("each run log holds its own domain only")
                    .contains("backup of domain '" + domain + "' started")
                    .doesNotContain(domain.equals("big") ? "'web'" : "'big'");
        }
        assertThat(lines).last().asString().isEqualTo("virt-backup: backup of 2 domain(s): 2 complete");
    }

    @Test
    void usageErrors() throws Exception {
        Map<String, String> before = Trees.snapshot(dir);
        String[][] cases = {
            {"--all", "web"},
            {"--all", "web", "vda"},
            {"--exclude", "scratch-*", "web"},
            {"--parallel", "2", "web"},
            {"--all", "--parallel", "0"},
            {"--all", "--parallel", "many"},
        };
        for (String[] args : cases) {
            List<String> withUri = new ArrayList<>(List.of("-c", uri, "-d", backups.toString()));
            withUri.addAll(List.of(args));
            out.reset();
            err.reset();
            assertThat(run(withUri.toArray(String[]::new))).as(String.join(" ", args)).isEqualTo(2);
        }
        out.reset();
        run("-c", uri, "--all", "web");
        assertThat(stdout()).containsExactly("virt-backup: error: --all backs up every domain: give no DOMAIN or "
                + "BLKDEV with it (--exclude PATTERN leaves domains out)");
        out.reset();
        run("-c", uri, "--exclude", "x", "web");
        assertThat(stdout()).containsExactly("virt-backup: error: --exclude and --parallel go with --all only");
        out.reset();
        run("-c", uri, "--all", "--parallel", "0");
        assertThat(stdout()).containsExactly("virt-backup: error: --parallel must be at least 1");
        Map<String, String> after = Trees.snapshot(dir);
        after.keySet().removeIf(name -> name.startsWith("state"));
        before.keySet().removeIf(name -> name.startsWith("state"));
        assertThat(after).as("nothing written").isEqualTo(before);
    }
}
