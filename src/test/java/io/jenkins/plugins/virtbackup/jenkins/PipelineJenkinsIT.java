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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
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
        assertThat(build.console()).contains(" --result-file " + temp.resolve("virt-backup-result"))
                .contains(" --mode suspend --level auto ").contains(" --verify -- web");
        try (Stream<Path> left = Files.list(temp)) {
            assertThat(left).as("the result file, read and deleted").isEmpty();
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
