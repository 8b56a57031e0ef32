package io.jenkins.plugins.virtbackup.jenkins;

import static io.jenkins.plugins.virtbackup.testing.JenkinsController.pipelineJob;
import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import io.jenkins.plugins.virtbackup.engine.store.Json;
import io.jenkins.plugins.virtbackup.libvirt.NativeSyslog;
import io.jenkins.plugins.virtbackup.testing.CliProcess;
import io.jenkins.plugins.virtbackup.testing.JenkinsController;
import io.jenkins.plugins.virtbackup.testing.JenkinsController.Build;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code virtBackup} step in real Pipeline jobs ({@code flow-definition}, workflow-cps) in a real
 * Jenkins 2.541.3 controller (one for the class), against libvirt's test driver.
 */
class PipelineJenkinsIT {
    private static final String MARK = "VIRT_BACKUP_IT_MARK";

    @TempDir
    static Path work;
    static JenkinsController jenkins;
    /** {@code web} and {@code db}, both running. */
    static String uri;
    static Path backups;

    @BeforeAll
    static void startJenkins() throws Exception {
        TestDriverNode node = new TestDriverNode(work.resolve("images"));
        uri = node
                .domain("web", RunState.RUNNING, true,
                        TestDriverNode.fileDisk("vda", node.rawImage("web.raw", 8 << 20, 1 << 20, 11), "raw"),
                        TestDriverNode.fileDisk("vdb", node.qcow2Image("web-data.qcow2", 16 << 20, 2), "qcow2"))
                .domain("db", RunState.RUNNING, true,
                        TestDriverNode.fileDisk("vda", node.rawImage("db.raw", 4 << 20, 1 << 20, 12), "raw"))
                .write();
        backups = work.resolve("backups");
        jenkins = JenkinsController.start("PipelineJenkinsIT", work, Map.of(MARK, "expanded"));
    }

    @AfterAll
    static void stopJenkins() throws Exception {
        if (jenkins != null) {
            jenkins.close();
        }
    }

    /** {@code node {}} creates no workspace folder; the step must not need one to exist. */
    @Test
    void firstStepInNodeReturnsWhatTheManifestSays() throws Exception {
        Build build = run("first-step", "node {\n"
                + "  def r = virtBackup domain: 'web', uri: '" + uri + "', backupDir: '" + backups + "', verify: true,"
                + " level: 'auto'\n"
                + "  echo \"RESULT ${groovy.json.JsonOutput.toJson(r)}\"\n"
                + "}");

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        Path temp = jenkins.home().resolve("workspace").resolve(build.job() + "@tmp");
        assertThat(build.console()).contains(" --result-file " + temp.resolve("virt-backup-run"))
                .contains(" --mode suspend --level auto ").contains(" --verify -- web");
        try (Stream<Path> left = Files.list(temp)) {
            assertThat(left.map(file -> file.getFileName().toString()))
                    .as("the run folder and its result file, read and deleted; the engine's jar kept")
                    .containsExactly(BundledCli.CACHE_DIR);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> result = (Map<String, Object>) Json.parse(build.console().lines().filter(l -> l.startsWith("RESULT "))
                .findFirst().orElseThrow().substring("RESULT ".length()));
        assertThat(result.keySet()).as("the keys docs/jenkins.md lists").containsExactlyInAnyOrder(
                "domain", "mode", "level", "backupDir", "parent", "files", "bytes", "downtimeMs", "result", "start",
                "end");
        Path dir = Path.of((String) result.get("backupDir"));
        assertThat(dir.getParent()).isEqualTo(backups.resolve("web"));
        Map<?, ?> manifest = (Map<?, ?>) Json.parse(Files.readString(dir.resolve("manifest.json")));
        assertThat(result.get("domain")).isEqualTo("web");
        assertThat(result.get("mode")).isEqualTo("suspend").isEqualTo(manifest.get("mode"));
        assertThat(result.get("result")).isEqualTo("complete").isEqualTo(manifest.get("result"));
        assertThat(result.get("start")).isEqualTo(manifest.get("start"));
        assertThat(result.get("end")).isEqualTo(manifest.get("end"));
        assertThat(result.get("downtimeMs")).isEqualTo(manifest.get("downtimeMs"));
        assertThat(result.get("level")).as("auto outside live mode: a full backup").isEqualTo("full")
                .isEqualTo(manifest.get("level"));
        assertThat(result).as("a full backup has no parent").containsEntry("parent", null);
        List<Path> data;
        try (Stream<Path> files = Files.list(dir)) {
            data = files.filter(f -> !List.of("manifest.json", "virt-backup.log").contains(f.getFileName().toString())
                    && !f.getFileName().toString().endsWith(".chunks")).toList();
        }
        @SuppressWarnings("unchecked")
        List<String> files = (List<String>) result.get("files");
        assertThat(files).containsExactlyInAnyOrderElementsOf(
                data.stream().map(f -> f.getFileName().toString()).toList())
                .contains("domain.xml", "vda.raw", "vdb.qcow2", "memory.state");
        long bytes = 0;
        for (Path file : data) {
            bytes += Files.size(file);
        }
        assertThat(((Number) result.get("bytes")).longValue()).isEqualTo(bytes);
        String prefix = "virt-backup/web/" + dir.getFileName() + "/";
        assertThat(jenkins.artifacts(build.job(), build.number()))
                .containsExactlyInAnyOrder(prefix + "virt-backup.log", prefix + "manifest.json");
    }

    @Test
    void failingBackupFailsTheBuildWithTheEnginesMessage() throws Exception {
        Build build = run("fails", "node { virtBackup domain: 'no-such', uri: '" + uri + "', backupDir: '"
                + backups + "' }\necho 'not reached'");

        assertThat(build.result()).isEqualTo("FAILURE");
        assertThat(build.console()).contains("ERROR: virt-backup of domain 'no-such' failed with exit code 3 "
                + "(domain or disk not found): domain 'no-such' not found").doesNotContain("not reached");
    }

    /** {@code try} and {@code catchError} see the step's failure and let the pipeline go on. */
    @Test
    void failuresCanBeCaught() throws Exception {
        String target = "uri: '" + uri + "', backupDir: '" + backups + "'";
        Build build = run("caught", "node {\n"
                + "  try {\n    virtBackup domain: 'no-such', " + target + "\n"
                + "  } catch (e) {\n    echo \"caught: ${e.message}\"\n  }\n"
                + "  try {\n    virtBackup domain: 'web', mode: 'sideways', " + target + "\n"
                + "  } catch (e) {\n    echo \"caught: ${e.message}\"\n  }\n"
                + "  try {\n    virtBackup domain: 'web', level: 'weekly', " + target + "\n"
                + "  } catch (e) {\n    echo \"caught: ${e.message}\"\n  }\n"
                + "  catchError(buildResult: 'UNSTABLE', stageResult: 'FAILURE') {\n"
                + "    virtBackup domain: 'no-such', " + target + "\n  }\n"
                + "  echo 'went on'\n}");

        assertThat(build.result()).as(build.console()).isEqualTo("UNSTABLE");
        assertThat(build.console()).contains(
                "caught: virt-backup of domain 'no-such' failed with exit code 3 (domain or disk not found)",
                "caught: virt-backup was not started: Unknown mode 'sideways'",
                "caught: virt-backup was not started: Unknown level 'weekly'; the levels are: full, inc, diff, auto.",
                "went on");
    }

    @Test
    void parallelBranchesBackUpTwoDomains() throws Exception {
        String target = "uri: '" + uri + "', backupDir: '" + backups + "'";
        Build build = run("parallel", "def dirs = [:]\n"
                + "parallel web: {\n  node { dirs.web = virtBackup(domain: 'web', " + target + ").backupDir }\n"
                + "}, db: {\n  node { dirs.db = virtBackup(domain: 'db', " + target + ").backupDir }\n}\n"
                + "echo \"DIRS ${dirs.web} ${dirs.db}\"");

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        String[] dirs = build.console().lines().filter(l -> l.startsWith("DIRS ")).findFirst().orElseThrow()
                .substring(5).split(" ");
        assertThat(Path.of(dirs[0])).hasParent(backups.resolve("web")).isDirectory();
        assertThat(Path.of(dirs[1])).hasParent(backups.resolve("db")).isDirectory();
        assertThat(build.console()).contains("virt-backup: backup of domain 'web' complete",
                "virt-backup: backup of domain 'db' complete");
    }

    /** The retention map binds to the step's nested describable and prunes after the backup. */
    @Test
    void retentionPrunesTheDomainsBackupsAfterEachBackup() throws Exception {
        Path root = work.resolve("retention");
        String target = "uri: '" + uri + "', backupDir: '" + root + "'";
        Build build = run("retention", "node {\n"
                + "  virtBackup(domain: 'db', " + target + ")\n"
                + "  virtBackup(domain: 'db', " + target + ")\n"
                + "  def last = virtBackup(domain: 'db', " + target + ", retention: [keepLast: 2])\n"
                + "  echo \"KEPT ${last.backupDir}\"\n"
                + "}");

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains("--keep-last 2", "2 kept, 1 removed");
        List<Path> left;
        try (Stream<Path> found = Files.list(root.resolve("db"))) {
            left = found.toList();
        }
        assertThat(left).hasSize(2);
        String kept = build.console().lines().filter(l -> l.startsWith("KEPT ")).findFirst().orElseThrow().substring(5);
        assertThat(left).contains(Path.of(kept));
    }

    @Test
    void severalDomainsInOneStepReturnAMapPerDomain() throws Exception {
        Build build = run("several", "node {\n"
                + "  def r = virtBackup domains: ['db', 'web'], uri: '" + uri + "', backupDir: '" + backups + "'\n"
                + "  echo \"RESULT ${groovy.json.JsonOutput.toJson(r)}\"\n"
                + "}");

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        Map<?, ?> result = resultOf(build);
        assertThat(new ArrayList<Object>(result.keySet())).as("keyed by domain, in the order backed up").containsExactly("db", "web");
        for (String domain : List.of("db", "web")) {
            Map<?, ?> one = (Map<?, ?>) result.get(domain);
            assertThat(one.get("domain")).isEqualTo(domain);
            assertThat(one.get("result")).isEqualTo("complete");
            assertThat(Path.of((String) one.get("backupDir"))).hasParent(backups.resolve(domain))
                    .isDirectory();
        }
        assertThat(jenkins.artifacts(build.job(), build.number())).hasSize(4);
    }

    /** {@code ok} running and {@code paused} paused: in shutdown mode the paused one fails, alone. */
    private static String mixedNode(String folder) throws Exception {
        TestDriverNode node = new TestDriverNode(work.resolve(folder));
        return node
                .domain("ok", RunState.RUNNING, true,
                        TestDriverNode.fileDisk("vda", node.rawImage("ok.raw", 4 << 20, 1 << 20, 21), "raw"))
                .domain("paused", RunState.PAUSED, true,
                        TestDriverNode.fileDisk("vda", node.rawImage("paused.raw", 4 << 20, 1 << 20, 22), "raw"))
                .write();
    }

    @Test
    void allDomainsWithAFailedOneFailNamingIt() throws Exception {
        String mixed = mixedNode("pipeline-mixed-failure");
        Build build = run("all-fails", "node {\n"
                + "  virtBackup allDomains: true, mode: 'shutdown', uri: '" + mixed + "', backupDir: '" + backups
                + "'\n}\necho 'not reached'");

        assertThat(build.result()).as(build.console()).isEqualTo("FAILURE");
        assertThat(build.console()).contains("ERROR: virt-backup: 1 of 2 domain(s) failed: domain 'paused': "
                + "exit code 1 (backup failed, the domain was left as it was found): domain 'paused' is paused")
                .contains("virt-backup: domain 'ok': complete, in " + backups + "/ok/")
                .doesNotContain("not reached");
    }

    @Test
    void allDomainsWithAFailedOneAreUnstableWhenAskedAndReturnEveryResult() throws Exception {
        String mixed = mixedNode("pipeline-mixed-unstable");
        Build build = run("all-unstable", "node {\n"
                + "  def r = virtBackup allDomains: true, mode: 'shutdown', parallel: 2, unstableOnFailure: true,"
                + " uri: '" + mixed + "', backupDir: '" + backups + "'\n"
                + "  echo \"RESULT ${groovy.json.JsonOutput.toJson(r)}\"\n"
                + "}");

        assertThat(build.result()).as(build.console()).isEqualTo("UNSTABLE");
        Map<?, ?> result = resultOf(build);
        assertThat(new ArrayList<Object>(result.keySet())).containsExactly("ok", "paused");
        assertThat(((Map<?, ?>) result.get("ok")).get("result")).isEqualTo("complete");
        Map<String, Object> failed = new LinkedHashMap<>();
        failed.put("domain", "paused");
        failed.put("result", "failed");
        failed.put("exitCode", 1L);
        failed.put("error", "domain 'paused' is paused and cannot shut down; use mode suspend, or resume it first");
        assertThat(result.get("paused")).isEqualTo(failed);
        assertThat(build.console()).contains("[ok] virt-backup: backup of domain 'ok' complete",
                "virt-backup: 1 of 2 domain(s) failed: domain 'paused'");
    }

    /** The map a build echoed as {@code RESULT JSON}. */
    private static Map<?, ?> resultOf(Build build) {
        String line = build.console().lines().filter(l -> l.startsWith("RESULT ")).findFirst().orElseThrow();
        return (Map<?, ?>) Json.parse(line.substring("RESULT ".length()));
    }

    /**
     * {@code withEnv} sets the value as written, {@code $VIRT_BACKUP_IT_MARK} included (a variable the
     * controller has); {@code sh} shows it so, and the engine must get it so too.
     */
    @Test
    void dollarInTheEnvironmentReachesTheEngine() throws Exception {
        TestDriverNode node = new TestDriverNode(work.resolve("hv$" + MARK));
        String dollarUri = node.domain("dollar", RunState.RUNNING, true,
                TestDriverNode.fileDisk("vda", node.rawImage("dollar.raw", 4 << 20, 1 << 20, 13), "raw")).write();
        Build build = run("dollar", "node {\n"
                + "  withEnv(['LIBVIRT_DEFAULT_URI=" + dollarUri + "']) {\n"
                + "    sh 'echo \"sh sees $LIBVIRT_DEFAULT_URI\"'\n"
                + "    virtBackup domain: 'dollar', backupDir: '" + backups + "', verbose: true\n"
                + "  }\n}");

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains("sh sees " + dollarUri, "virt-backup: connected to " + dollarUri);
    }

    // ------------------------------------------------------------------ restore

    /**
     * A restore test of a backup the command line made: on the test driver the clone has neither an
     * agent channel nor a console, so the weakest proof applies (still running when the timeout ends).
     */
    @Test
    void restoreTestReturnsItsProofAndLeavesNothingBehind() throws Exception {
        Path backup = CliProcess.backUp(uri, "db", work.resolve("cli-backups"), work);
        Path scratch = Files.createDirectories(work.resolve("restore-test-scratch"));
        Build build = run("restore-test", "node {\n"
                + "  def t = virtBackupRestoreTest backup: '" + backup + "', uri: '" + uri + "', diskDir: '" + scratch
                + "', timeout: 2\n"
                + "  echo \"RESULT ${groovy.json.JsonOutput.toJson(t)}\"\n"
                + "}");

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        Path temp = jenkins.home().resolve("workspace").resolve(build.job() + "@tmp");
        assertThat(build.console()).contains(" restore --test --result-file " + temp.resolve("virt-backup-run"))
                .contains(" --connect " + uri + " --disk-dir " + scratch + " --timeout 2 -- " + backup);
        Map<String, Object> result = printedMap(build);
        assertThat(result.keySet()).as("the keys docs/jenkins.md lists").containsExactlyInAnyOrder(
                "status", "backup", "domain", "passed", "proof", "secondsToLife", "detail");
        assertThat(result).containsEntry("status", 0L).containsEntry("backup", backup.toString())
                .containsEntry("passed", true).containsEntry("proof", "running");
        assertThat((String) result.get("domain")).as("the clone's own name").isNotBlank().isNotEqualTo("db");
        assertThat(((Number) result.get("secondsToLife")).doubleValue()).isNotNegative();
        assertThat((String) result.get("detail")).isNotBlank();
        try (Stream<Path> left = Files.list(scratch)) {
            assertThat(left).as("the clone's scratch folder, removed").isEmpty();
        }
        try (Stream<Path> left = Files.list(temp)) {
            assertThat(left.map(file -> file.getFileName().toString()))
                    .as("the run folder and its result file, read and deleted; the engine's jar kept")
                    .containsExactly(BundledCli.CACHE_DIR);
        }
    }

    /**
     * A copy under a new name returns what it made, disks equal to the backup's; the same restore
     * again fails with exit code 9 and changes nothing.
     */
    @Test
    void restoreOfACopyReturnsWhatItMadeAndNeverOverwrites() throws Exception {
        Path backup = CliProcess.backUp(uri, "web", work.resolve("cli-backups"), work);
        Path copies = Files.createDirectories(work.resolve("copies"));
        String script = "node {\n"
                + "  def r = virtBackupRestore backup: '" + backup + "', uri: '" + uri + "', name: 'web-copy',"
                + " diskDir: '" + copies + "', start: true\n"
                + "  echo \"RESULT ${groovy.json.JsonOutput.toJson(r)}\"\n"
                + "}";
        Build build = run("restore-copy", script);

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains(" --connect " + uri + " --name web-copy --disk-dir " + copies
                + " --start -- " + backup);
        Map<String, Object> result = printedMap(build);
        assertThat(result.keySet()).as("the keys docs/jenkins.md lists").containsExactlyInAnyOrder(
                "status", "backup", "domain", "uuid", "disks", "started");
        assertThat(result).containsEntry("status", 0L).containsEntry("backup", backup.toString())
                .containsEntry("domain", "web-copy").containsEntry("started", "booted");
        String originalXml = Files.readString(backup.resolve("domain.xml"));
        assertThat((String) result.get("uuid")).matches("[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")
                .as("a new UUID").isNotIn(uuidOf(originalXml));
        Map<?, ?> disks = (Map<?, ?>) result.get("disks");
        assertThat(disks.keySet().stream().map(String::valueOf)).containsExactlyInAnyOrder("vda", "vdb");
        Map<Path, String> restored = new LinkedHashMap<>();
        for (Map.Entry<?, ?> disk : disks.entrySet()) {
            Path image = Path.of((String) disk.getValue());
            assertThat(image).hasParent(copies).isRegularFile();
            Path copied = backupFile(backup, (String) disk.getKey());
            assertThat(sameContent(copied, image)).as("%s holds what %s holds", image, copied).isTrue();
            restored.put(image, sha256(image));
        }

        Build again = run("restore-copy-again", script);
        assertThat(again.result()).as(again.console()).isEqualTo("FAILURE");
        assertThat(again.console()).contains("ERROR: virt-backup restore of " + backup + " failed with exit code 9 "
                + "(a domain with that name or UUID, or a file at a disk's destination, already exists; nothing was "
                + "changed)").doesNotContain("RESULT ");
        for (Map.Entry<Path, String> image : restored.entrySet()) {
            assertThat(sha256(image.getKey())).as("%s unchanged", image.getKey()).isEqualTo(image.getValue());
        }
        try (Stream<Path> files = Files.list(copies)) {
            assertThat(files).as("nothing added").hasSameSizeAs(restored.keySet());
        }
    }

    /** A damaged backup fails the restore test before anything is restored (exit code 7); catchError sees it. */
    @Test
    void restoreTestOfADamagedBackupFailsTheStep() throws Exception {
        Path backup = CliProcess.backUp(uri, "db", work.resolve("damaged-backups"), work);
        damage(backup.resolve("vda.raw"));
        Build build = run("restore-test-damaged", "node {\n"
                + "  catchError(buildResult: 'FAILURE', stageResult: 'FAILURE') {\n"
                + "    virtBackupRestoreTest backup: '" + backup + "', uri: '" + uri + "', timeout: 2\n"
                + "    echo 'not reached'\n"
                + "  }\n"
                + "  echo 'went on'\n}");

        assertThat(build.result()).as(build.console()).isEqualTo("FAILURE");
        assertThat(build.console()).contains("virt-backup restore test of " + backup + " failed with exit code 7 "
                + "(the backup failed verification, nothing was restored)", "went on").doesNotContain("not reached");
    }

    /**
     * The pipeline form's round trip: the snippet generator builds each restore step from its form's
     * fields (the constructor and setters) and writes it back as Groovy (the getters), defaults left
     * out; the generated restore test then runs as it was written.
     */
    @Test
    void snippetsOfTheRestoreStepsRoundTripAndRun() throws Exception {
        String full = snippet(Map.of("stapler-class", VirtBackupRestoreStep.class.getName(),
                "backup", "/srv/backup/web/20261203T021500Z", "uri", "qemu:///system", "name", "web-copy",
                "diskDir", "/srv/restore", "start", true, "verbose", true));
        assertThat(full).startsWith("virtBackupRestore ").contains("backup: '/srv/backup/web/20261203T021500Z'",
                "uri: 'qemu:///system'", "name: 'web-copy'", "diskDir: '/srv/restore'", "start: true", "verbose: true");
        String defaults = snippet(Map.of("stapler-class", VirtBackupRestoreStep.class.getName(),
                "backup", "/srv/backup/web/20261203T021500Z", "uri", "", "name", " ", "diskDir", "", "start", false,
                "verbose", false));
        assertThat(defaults).as("defaults left out").isEqualTo("virtBackupRestore '/srv/backup/web/20261203T021500Z'");

        Path backup = CliProcess.backUp(uri, "db", work.resolve("snippet-backups"), work);
        Path scratch = Files.createDirectories(work.resolve("snippet-scratch"));
        String test = snippet(Map.of("stapler-class", VirtBackupRestoreTestStep.class.getName(),
                "backup", backup.toString(), "uri", uri, "diskDir", scratch.toString(), "timeout", "2",
                "consolePattern", "", "verbose", false));
        assertThat(test).startsWith("virtBackupRestoreTest ").contains("backup: '" + backup + "'", "timeout: 2",
                "diskDir: '" + scratch + "'").doesNotContain("consolePattern", "verbose");
        assertThat(snippet(Map.of("stapler-class", VirtBackupRestoreTestStep.class.getName(), "backup", "/b/w/s",
                "uri", "", "diskDir", "", "timeout", "300", "consolePattern", "^login: $", "verbose", true)))
                .isEqualTo("virtBackupRestoreTest backup: '/b/w/s', consolePattern: '^login: $', verbose: true");

        Build build = run("restore-test-snippet", "node {\n  def t = " + test + "\n  echo \"PASSED ${t.passed}\"\n}");
        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains("PASSED true");
    }

    /** {@code POST /pipeline-syntax/generateSnippet}: what the snippet generator's page asks for. */
    private static String snippet(Map<String, Object> form) throws Exception {
        return jenkins.postForText("/pipeline-syntax/generateSnippet",
                "json=" + URLEncoder.encode(Json.write(form), StandardCharsets.UTF_8)).strip();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> printedMap(Build build) {
        return (Map<String, Object>) Json.parse(printed(build, "RESULT ").get(0));
    }

    private static List<String> uuidOf(String domainXml) {
        Matcher uuid = Pattern.compile("<uuid>([^<]+)</uuid>").matcher(domainXml);
        assertThat(uuid.find()).as(domainXml).isTrue();
        return List.of(uuid.group(1));
    }

    /** The backup's image of one disk target: {@code TARGET.FORMAT}. */
    private static Path backupFile(Path backup, String target) throws Exception {
        try (Stream<Path> files = Files.list(backup)) {
            return files.filter(f -> f.getFileName().toString().matches(Pattern.quote(target) + "\\.(raw|qcow2)"))
                    .findFirst().orElseThrow();
        }
    }

    /** Whether two images hold the same data, whatever their formats: {@code qemu-img compare}. */
    private static boolean sameContent(Path a, Path b) throws Exception {
        Process compare = new ProcessBuilder("qemu-img", "compare", a.toString(), b.toString())
                .redirectErrorStream(true).start();
        String output = new String(compare.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = compare.waitFor();
        assertThat(code).as("qemu-img compare: %s", output).isIn(0, 1);
        return code == 0;
    }

    private static String sha256(Path file) throws Exception {
        return BundledCli.sha256(file.toFile());
    }

    /**
     * The weekly verify job of docs/jenkins.md, as written but for its paths and the node: it checks
     * the newest backup of each domain, and only those.
     */
    @Test
    void theDocumentedVerifyJobChecksTheNewestBackupOfEachDomain() throws Exception {
        Path root = work.resolve("verified");
        String target = "uri: '" + uri + "', backupDir: '" + root + "'";
        Build backups = run("verify-job-backups", "node {\n"
                + "  echo \"OLDER ${virtBackup(domain: 'web', " + target + ").backupDir}\"\n"
                + "  echo \"NEWEST ${virtBackup(domain: 'web', " + target + ").backupDir}\"\n"
                + "  echo \"NEWEST ${virtBackup(domain: 'db', " + target + ").backupDir}\"\n}");
        assertThat(backups.result()).as(backups.console()).isEqualTo("SUCCESS");
        List<String> newest = printed(backups, "NEWEST ");
        Path older = Path.of(printed(backups, "OLDER ").get(0));
        Path wrapper = work.resolve("virt-backup");
        Files.writeString(wrapper, "#!/bin/sh\n" + NativeSyslog.SOCKET_ENV + "=" + work.resolve("no-syslog.sock")
                + " exec " + Path.of(System.getProperty("java.home"), "bin", "java") + " -jar "
                + CliProcess.JAR.toAbsolutePath() + " \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
        String job = "verify-job";
        jenkins.createJob(job, pipelineJob(documentedVerifyJob().replace("/srv/backup", root.toString())
                .replace("/opt/virt-backup/bin/virt-backup", wrapper.toString()).replace("node('kvm1')", "node")));

        Build allGood = jenkins.waitForBuild(job, jenkins.build(job));
        assertThat(allGood.result()).as(allGood.console()).isEqualTo("SUCCESS");
        assertThat(allGood.console()).contains(newest);
        // The newest may be the older one's name with -2 after it (two backups in the same second).
        assertThat(allGood.console().lines()).noneMatch(l -> l.endsWith(older.toString())
                || l.contains(older + " "));

        damage(older.resolve("domain.xml"));
        Build olderDamaged = jenkins.waitForBuild(job, jenkins.build(job));
        assertThat(olderDamaged.result()).as(olderDamaged.console()).isEqualTo("SUCCESS");

        // db comes first in the loop: web's newest backup is checked after db's failed.
        damage(Path.of(newest.get(1)).resolve("domain.xml"));
        Build newestDamaged = jenkins.waitForBuild(job, jenkins.build(job));
        assertThat(newestDamaged.result()).as(newestDamaged.console()).isEqualTo("FAILURE");
        String console = newestDamaged.console();
        assertThat(console).contains("domain.xml", "script returned exit code 7");
        assertThat(console.indexOf(newest.get(0))).as("web checked after db's failure")
                .isGreaterThan(console.indexOf("domain.xml"));
    }

    /** The first {@code groovy} block under "## A weekly verify job" in docs/jenkins.md. */
    private static String documentedVerifyJob() throws Exception {
        String docs = Files.readString(Path.of("docs/jenkins.md"));
        int section = docs.indexOf("\n## A weekly verify job\n");
        assertThat(section).as("a verify job section in docs/jenkins.md").isPositive();
        int start = docs.indexOf("```groovy\n", section) + "```groovy\n".length();
        return docs.substring(start, docs.indexOf("```\n", start));
    }

    private static List<String> printed(Build build, String prefix) {
        return build.console().lines().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length()))
                .toList();
    }

    /** Flips the bits of one byte in the middle of the file. */
    private static void damage(Path file) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= (byte) 0xff;
        Files.write(file, bytes);
    }

    private static Build run(String job, String script) throws Exception {
        jenkins.createJob(job, pipelineJob(script));
        return jenkins.waitForBuild(job, jenkins.build(job));
    }
}
