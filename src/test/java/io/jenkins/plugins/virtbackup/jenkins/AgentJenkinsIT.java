package io.jenkins.plugins.virtbackup.jenkins;

import static io.jenkins.plugins.virtbackup.testing.JenkinsController.freestyleJob;
import static io.jenkins.plugins.virtbackup.testing.JenkinsController.pipelineJob;
import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import io.jenkins.plugins.virtbackup.testing.JenkinsController;
import io.jenkins.plugins.virtbackup.testing.JenkinsController.Build;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * Builds on inbound agents started with the runtime's {@code run-agent} ({@code kvm1}, {@code kvm2}):
 * the engine is copied to the agent's root and runs there, the artifacts reach the controller, and
 * the nightly example of {@code docs/jenkins.md} runs as written. Nothing runs on the built-in node.
 */
class AgentJenkinsIT {
    private static final Path DOCS = Path.of("docs/jenkins.md");

    @TempDir
    static Path work;
    static JenkinsController jenkins;
    static Path kvm1;
    static Path kvm2;
    /** {@code web}, {@code db} (two disks) and {@code mail}, all running. */
    static String uri;
    static Path backups;

    @BeforeAll
    static void startJenkinsAndAgents() throws Exception {
        TestDriverNode node = new TestDriverNode(work.resolve("images"));
        uri = node
                .domain("web", RunState.RUNNING, true,
                        TestDriverNode.fileDisk("vda", node.rawImage("web.raw", 8 << 20, 1 << 20, 21), "raw"))
                .domain("db", RunState.RUNNING, true,
                        TestDriverNode.fileDisk("vda", node.rawImage("db-a.raw", 4 << 20, 1 << 20, 22), "raw"),
                        TestDriverNode.fileDisk("vdb", node.rawImage("db-b.raw", 4 << 20, 1 << 20, 23), "raw"))
                .domain("mail", RunState.RUNNING, true,
                        TestDriverNode.fileDisk("vda", node.rawImage("mail.raw", 4 << 20, 1 << 20, 24), "raw"))
                .write();
        backups = work.resolve("backups");
        jenkins = JenkinsController.start("AgentJenkinsIT", work, Map.of());
        kvm1 = jenkins.startAgent("kvm1", "kvm kvm1");
        // Both agents reach the same test-driver hypervisor: a state directory each, as on two hosts,
        // so that their engines' domain locks do not meet.
        kvm2 = jenkins.startAgent("kvm2", "kvm kvm2", Map.of("VIRT_BACKUP_STATE_DIR",
                work.resolve("state-kvm2").toString()));
    }

    @AfterAll
    static void stopJenkins() throws Exception {
        if (jenkins != null) {
            jenkins.close();
        }
    }

    @Test
    void freestyleBuildRunsTheEngineOnTheAgent() throws Exception {
        String job = "freestyle-on-kvm1";
        jenkins.createJob(job, freestyleJob("kvm1", FreestyleJenkinsIT.builderXml(Map.of("domain", "web",
                "uri", uri, "backupDir", backups.toString()))));

        Build build = jenkins.waitForBuild(job, jenkins.build(job));

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains("Building remotely on kvm1",
                "in workspace " + kvm1.resolve("workspace").resolve(job));
        assertEngineRanUnder(kvm1.resolve("workspace").resolve(job), build);
        assertArtifactsReachedTheController(build, "web");
    }

    @Test
    void pipelineRunsTheEngineOnTheAgent() throws Exception {
        String job = "pipeline-on-kvm2";
        jenkins.createJob(job, pipelineJob("node('kvm2') {\n  def r = virtBackup domain: 'mail', uri: '" + uri
                + "', backupDir: '" + backups + "'\n  echo \"bytes=${r.bytes}\"\n}"));

        Build build = jenkins.waitForBuild(job, jenkins.build(job));

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains("Running on kvm2 in " + kvm2.resolve("workspace").resolve(job),
                "bytes=");
        assertEngineRanUnder(kvm2.resolve("workspace").resolve(job), build);
        assertArtifactsReachedTheController(build, "mail");
    }

    @Test
    void documentedNightlyPipelineRunsAsWritten() throws Exception {
        String script = documentedPipeline()
                .replace("def uri = 'qemu:///system'\n", "def uri = '" + uri + "'\n")
                .replace("def backupDir = '/srv/backup'\n", "def backupDir = '" + backups.resolve("nightly") + "'\n");
        assertThat(script).as("the example names its URI and backup directory once each, first")
                .startsWith("def uri = '" + uri + "'\ndef backupDir = '" + backups.resolve("nightly") + "'\n");
        jenkins.createJob("nightly", pipelineJob(script));

        Build build = jenkins.waitForBuild("nightly", jenkins.build("nightly"));

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains("Running on kvm1", "Running on kvm2");
        Matcher echo = Pattern.compile("web: (\\d+) files, (\\d+) bytes, guest down (\\d+) ms, in (\\S+)")
                .matcher(build.console());
        assertThat(echo.find()).as(build.console()).isTrue();
        assertThat(Path.of(echo.group(4))).hasParent(backups.resolve("nightly/web"));
        assertThat(files(Path.of(echo.group(4))).stream().filter(name -> !name.endsWith(".chunks")))
                .as("the files the step returns, plus manifest.json and the run log")
                .hasSize(Integer.parseInt(echo.group(1)) + 2);
        Path db = onlyBackup(backups.resolve("nightly/db"));
        assertThat(files(db)).as("shutdown mode, disk vda only")
                .containsExactlyInAnyOrder("domain.xml", "vda.raw", "manifest.json", "virt-backup.log",
                        "domain.xml.chunks", "vda.raw.chunks");
        assertThat(Files.readString(db.resolve("manifest.json"))).contains("\"mode\": \"shutdown\"");
        assertThat(files(onlyBackup(backups.resolve("nightly/mail")))).contains("vda.raw", "memory.state");
    }

    /**
     * The nightly restore test of docs/jenkins.md, as written but for its three values: on kvm1 each
     * domain is backed up and its new backup proven to boot (on the test driver, by the weakest
     * proof: still running when the timeout ends), leaving nothing in the default scratch folder.
     */
    @Test
    void documentedNightlyRestoreTestRunsAsWritten() throws Exception {
        String header = "def uri = 'qemu:///system'\ndef backupDir = '/srv/backup'\ndef bootTimeout = 600\n";
        String documented = documentedBlock("## A nightly restore test");
        assertThat(documented).as("the example names its three values first").startsWith(header);
        Path root = backups.resolve("restore-tested");
        String script = "def uri = '" + uri + "'\ndef backupDir = '" + root + "'\ndef bootTimeout = 2\n"
                + documented.substring(header.length());
        jenkins.createJob("nightly-restore-test", pipelineJob(script));

        Build build = jenkins.waitForBuild("nightly-restore-test", jenkins.build("nightly-restore-test"));

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains("Running on kvm1");
        for (String domain : List.of("web", "db")) {
            Path backup = onlyBackup(root.resolve(domain));
            assertThat(build.console()).contains(domain + ": " + backup + " boots (running, ",
                    "restore test of " + backup + " as transient domain '" + domain + "-restore-test-");
        }
        assertThat(build.console()).as("the engine ran on the agent")
                .contains(" -jar " + kvm1.resolve("workspace").resolve("nightly-restore-test@tmp")
                        .resolve(BundledCli.CACHE_DIR) + "/");
        Path scratch = work.resolve("state").resolve("restore-test");
        assertThat(!Files.exists(scratch) || files(scratch).isEmpty())
                .as("nothing left in the default scratch folder %s", scratch).isTrue();
    }

    /**
     * The whole-night pipeline of docs/jenkins.md, as written but for its four values: on both agents
     * at once every domain is backed up, each domain's folder pruned, and one new backup per agent
     * proven to boot.
     */
    @Test
    void documentedWholeNightRunsAsWritten() throws Exception {
        String header = "def uri = 'qemu:///system'\ndef backupDir = '/srv/backup'\n"
                + "def hypervisors = ['kvm1', 'kvm2']\ndef bootTimeout = 600\n";
        String documented = documentedBlock("## The whole night: every domain of every hypervisor");
        assertThat(documented).as("the example names its four values first").startsWith(header);
        Path root = backups.resolve("whole-night");
        String script = "def uri = '" + uri + "'\ndef backupDir = '" + root + "'\n"
                + "def hypervisors = ['kvm1', 'kvm2']\ndef bootTimeout = 2\n" + documented.substring(header.length());
        jenkins.createJob("whole-night", pipelineJob(script));

        Build build = jenkins.waitForBuild("whole-night", jenkins.build("whole-night"));

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        for (String hypervisor : List.of("kvm1", "kvm2")) {
            assertThat(build.console()).contains("Running on " + hypervisor)
                    .containsPattern(hypervisor + ": 3 of 3 domain\\(s\\) backed up; (web|db|mail) boots \\(running, ");
            for (String domain : List.of("web", "db", "mail")) {
                onlyBackup(root.resolve(hypervisor).resolve(domain));
            }
        }
        assertThat(build.console()).contains("prune of " + root.resolve("kvm1").resolve("web"));
    }

    /**
     * The agent goes offline inside {@code node {}}, before the step: the build fails naming the
     * offline agent (Pipeline itself refuses the step, which requires a live workspace), never with a
     * NullPointerException, and nothing is started.
     */
    @Test
    void anAgentGoneOfflineBeforeTheStepGetsAClearError() throws Exception {
        jenkins.startAgent("kvm3", "kvm3");
        String job = "offline-agent";
        jenkins.createJob(job, pipelineJob("node('kvm3') {\n  echo 'on kvm3'\n  sleep 10\n"
                + "  virtBackup domain: 'web', uri: '" + uri + "', backupDir: '" + backups.resolve("offline") + "'\n}"));
        int number = jenkins.build(job);
        jenkins.waitForConsole(job, number, "on kvm3");

        jenkins.stopAgent("kvm3");
        Build build = jenkins.waitForBuild(job, number);

        assertThat(build.result()).as(build.console()).isEqualTo("FAILURE");
        assertThat(build.console()).doesNotContain("NullPointerException", "virt-backup: running")
                .contains("kvm3 was marked offline");
        assertThat(backups.resolve("offline")).doesNotExist();
    }

    // ------------------------------------------------------------------ helpers

    /**
     * The engine's jar was copied into the workspace's temporary folder on the agent (which container
     * wrappers mount too) and run from there; never on the controller. Its run folder is gone.
     */
    private static void assertEngineRanUnder(Path workspace, Build build) throws Exception {
        Path temp = workspace.resolveSibling(workspace.getFileName() + "@tmp");
        Path cache = temp.resolve(BundledCli.CACHE_DIR);
        assertThat(build.console()).containsPattern(Pattern.quote(" -jar " + cache + "/") + "virt-backup-cli-\\w+\\.jar ");
        assertThat(files(cache)).singleElement().asString().matches("virt-backup-cli-\\w+\\.jar");
        assertThat(files(temp)).as("the run folder is removed once the engine ended")
                .noneMatch(name -> name.startsWith("virt-backup-run"));
        try (Stream<Path> controllerFiles = Files.walk(jenkins.home())) {
            assertThat(controllerFiles).as("no engine copied on the controller")
                    .noneMatch(file -> file.getFileName().toString().matches("virt-backup-cli-\\w+\\.jar"));
        }
    }

    private static void assertArtifactsReachedTheController(Build build, String domain) throws Exception {
        List<String> artifacts = jenkins.artifacts(build.job(), build.number());
        assertThat(artifacts).hasSize(2);
        for (String artifact : artifacts) {
            Path onAgent = backups.resolve(artifact.substring("virt-backup/".length()));
            assertThat(artifact).startsWith("virt-backup/" + domain + "/");
            assertThat(jenkins.artifact(build.job(), build.number(), artifact)).as(artifact)
                    .isEqualTo(Files.readAllBytes(onAgent));
        }
    }

    /** The first {@code groovy} block under "## Pipeline" in docs/jenkins.md. */
    static String documentedPipeline() throws Exception {
        return documentedBlock("## Pipeline");
    }

    /** The first {@code groovy} block under this heading in docs/jenkins.md. */
    private static String documentedBlock(String heading) throws Exception {
        String docs = Files.readString(DOCS);
        int section = docs.indexOf("\n" + heading + "\n");
        assertThat(section).as("a section '%s' in %s", heading, DOCS).isPositive();
        int start = docs.indexOf("```groovy\n", section) + "```groovy\n".length();
        return docs.substring(start, docs.indexOf("```\n", start));
    }

    private static Path onlyBackup(Path domainDir) throws Exception {
        List<String> names = files(domainDir);
        assertThat(names).hasSize(1);
        return domainDir.resolve(names.get(0));
    }

    private static List<String> files(Path dir) throws Exception {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).toList();
        }
    }
}
