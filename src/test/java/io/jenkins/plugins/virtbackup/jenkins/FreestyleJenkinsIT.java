package io.jenkins.plugins.virtbackup.jenkins;

import static io.jenkins.plugins.virtbackup.testing.JenkinsController.freestyleJob;
import static io.jenkins.plugins.virtbackup.testing.JenkinsController.xml;
import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import io.jenkins.plugins.virtbackup.testing.CliProcess;
import io.jenkins.plugins.virtbackup.testing.JenkinsController;
import io.jenkins.plugins.virtbackup.testing.JenkinsController.Build;
import io.jenkins.plugins.virtbackup.testing.ProcessTestNode;
import java.io.ByteArrayInputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kohsuke.stapler.DataBoundSetter;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The freestyle build step in a real Jenkins 2.541.3 controller (one for the class), against
 * libvirt's test driver: configuration round trips, a backup with its archived files, the failures,
 * the environment, and builds at the same time.
 */
class FreestyleJenkinsIT {
    /** Expanded on the node, a path holding it would change: see {@link #dollarInTheEnvironmentReachesTheEngine}. */
    private static final String MARK = "VIRT_BACKUP_IT_MARK";

    @TempDir
    static Path work;
    static JenkinsController jenkins;
    /** {@code web} (8 MiB) and {@code big} (16 GiB sparse, seconds to copy). */
    static String uri;
    static Path backups;

    @BeforeAll
    static void startJenkins() throws Exception {
        uri = ProcessTestNode.webAndBig(work.resolve("images"));
        backups = work.resolve("backups");
        jenkins = JenkinsController.start("FreestyleJenkinsIT", work, Map.of(MARK, "expanded"));
    }

    @AfterAll
    static void stopJenkins() throws Exception {
        if (jenkins != null) {
            jenkins.close();
        }
    }

    // ------------------------------------------------------------------ configuration

    @Test
    void everyFieldSurvivesARoundTripThroughJenkins() throws Exception {
        Map<String, String> changed = new LinkedHashMap<>();
        changed.put("domain", "web");
        changed.put("uri", "qemu+ssh://kvm1/system");
        changed.put("disks", "vda /var/lib/libvirt/images/web-data.qcow2");
        changed.put("mode", "live");
        changed.put("level", "inc");
        changed.put("backupDir", "/srv/backup");
        changed.put("shutdownTimeout", "600");
        changed.put("forceOff", "true");
        changed.put("verify", "true");
        changed.put("compress", "true");
        changed.put("verbose", "true");
        changed.put("domains", "db mail");
        changed.put("allDomains", "true");
        changed.put("excludes", "test-* scratch?");
        changed.put("parallel", "3");
        changed.put("unstableOnFailure", "true");
        changed.put("retention", "keepLast=0 keepHourly=0 keepDaily=7 keepWeekly=4 keepMonthly=6 keepYearly=1");
        changed.put("quiesce", "true");
        changed.put("snapshotSize", "512 MiB");
        changed.put("overlayDir", "/srv/overlays");
        changed.put("stateDir", "/var/lib/vb-state");
        changed.put("errorLog", "${WORKSPACE}/virt-backup-errors.log");
        assertThat(changed.keySet()).as("every field the builder binds").isEqualTo(boundFields());

        assertThat(roundTrip("config-changed", changed)).isEqualTo(changed);
        Map<String, String> defaults = new LinkedHashMap<>(Map.of("domain", "web", "mode", "suspend", "level", "full",
                "shutdownTimeout", "300", "forceOff", "false", "verify", "false", "compress", "false", "verbose",
                "false"));
        defaults.putAll(Map.of("allDomains", "false", "parallel", "1", "unstableOnFailure", "false",
                "quiesce", "false"));
        assertThat(roundTrip("config-defaults", defaults)).isEqualTo(defaults);
        assertThat(roundTrip("config-domain-only", Map.of("domain", "web")))
                .as("fields left out load with the form's defaults").isEqualTo(defaults);
        Map<String, String> beforeManyDomains = new LinkedHashMap<>(Map.of("domain", "web", "uri", uri, "mode",
                "suspend", "level", "full", "backupDir", backups.toString(), "shutdownTimeout", "300", "forceOff",
                "false", "verify", "false", "verbose", "false"));
        Map<String, String> loaded = roundTrip("config-before-many-domains", beforeManyDomains);
        beforeManyDomains.putAll(Map.of("allDomains", "false", "parallel", "1", "unstableOnFailure", "false",
                "compress", "false", "quiesce", "false"));
        assertThat(loaded).as("a job saved before several domains and compression loads as one domain's")
                .isEqualTo(beforeManyDomains);
        Build build = jenkins.waitForBuild("config-before-many-domains", jenkins.build("config-before-many-domains"));
        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains(" -- web\n", "virt-backup: backup of domain 'web' complete");
    }

    // ------------------------------------------------------------------ several domains

    /** {@code ok-1} and {@code ok-2} running, {@code paused} paused: shutdown mode fails it alone. */
    private static String mixedNode(String folder) throws Exception {
        TestDriverNode node = new TestDriverNode(work.resolve(folder));
        for (String name : List.of("ok-1", "ok-2")) {
            node.domain(name, RunState.RUNNING, true,
                    TestDriverNode.fileDisk("vda", node.rawImage(name + ".raw", 4 << 20, 1 << 20, 7), "raw"));
        }
        return node.domain("paused", RunState.PAUSED, true,
                TestDriverNode.fileDisk("vda", node.rawImage("paused.raw", 4 << 20, 1 << 20, 8), "raw")).write();
    }

    @Test
    void aFailedDomainAmongAllFailsTheBuildNamingItAndTheOthersAreArchived() throws Exception {
        String mixed = mixedNode("mixed-failure");
        Build build = run("all-one-fails", builderXml(Map.of("allDomains", "true", "uri", mixed, "mode", "shutdown",
                "parallel", "2", "backupDir", backups.toString())));

        assertThat(build.result()).as(build.console()).isEqualTo("FAILURE");
        assertThat(build.console()).contains(" --all --parallel 2",
                "ERROR: virt-backup: 1 of 3 domain(s) failed: domain 'paused': exit code 1 (backup failed, the "
                        + "domain was left as it was found): domain 'paused' is paused and cannot shut down",
                "virt-backup: error: backup of 3 domain(s): 2 complete, 1 failed (paused: exit 1); exit code 1");
        List<String> artifacts = jenkins.artifacts(build.job(), build.number());
        assertThat(artifacts).hasSize(4).anyMatch(a -> a.startsWith("virt-backup/ok-1/"))
                .anyMatch(a -> a.startsWith("virt-backup/ok-2/")).noneMatch(a -> a.contains("paused"));
    }

    @Test
    void unstableWhenAskedAndAListOfDomainsRunsEachInTurn() throws Exception {
        String mixed = mixedNode("mixed-unstable");
        Build build = run("list-unstable", builderXml(Map.of("domains", "ok-1 no-such ok-2", "uri", mixed,
                "unstableOnFailure", "true", "backupDir", backups.toString())));

        assertThat(build.result()).as(build.console()).isEqualTo("UNSTABLE");
        assertThat(build.console()).contains("-- ok-1\n", "-- no-such\n", "-- ok-2\n",
                "virt-backup: 1 of 3 domain(s) failed: domain 'no-such': exit code 3 (domain or disk not found): "
                        + "domain 'no-such' not found");
        assertThat(build.console().indexOf("backup of domain 'ok-1' complete"))
                .as("in the order listed").isLessThan(build.console().indexOf("backup of domain 'ok-2' complete"));
        assertThat(jenkins.artifacts(build.job(), build.number())).hasSize(4);
    }

    @Test
    void everyRestoreFieldSurvivesARoundTripThroughJenkins() throws Exception {
        Map<String, String> changed = new LinkedHashMap<>();
        changed.put("backup", "/srv/backup/web/20261203T021500Z");
        changed.put("uri", "qemu:///system");
        changed.put("name", "web-copy");
        changed.put("diskDir", "/srv/restore");
        changed.put("start", "true");
        changed.put("verbose", "true");
        changed.put("stateDir", "/var/lib/vb-state");
        changed.put("errorLog", "/var/log/vb-errors.log");
        assertThat(changed.keySet()).as("every field the builder binds")
                .isEqualTo(boundFields(VirtBackupRestoreBuilder.class));

        assertThat(roundTrip(VirtBackupRestoreBuilder.class, "restore-changed", changed)).isEqualTo(changed);
        Map<String, String> defaults = Map.of("backup", "${BACKUP}", "start", "false", "verbose", "false");
        assertThat(roundTrip(VirtBackupRestoreBuilder.class, "restore-defaults", defaults)).isEqualTo(defaults);
        assertThat(roundTrip(VirtBackupRestoreBuilder.class, "restore-backup-only", Map.of("backup", "${BACKUP}")))
                .as("fields left out load with the form's defaults").isEqualTo(defaults);
    }

    @Test
    void everyRestoreTestFieldSurvivesARoundTripThroughJenkins() throws Exception {
        Map<String, String> changed = new LinkedHashMap<>();
        changed.put("backup", "/srv/backup/web/20261203T021500Z");
        changed.put("uri", "qemu+ssh://kvm1/system");
        changed.put("diskDir", "/srv/scratch");
        changed.put("timeout", "900");
        changed.put("consolePattern", "^web login: $");
        changed.put("verbose", "true");
        changed.put("proof", "agent");
        changed.put("stateDir", "${STATE}");
        changed.put("errorLog", "/var/log/vb-errors.log");
        assertThat(changed.keySet()).as("every field the builder binds")
                .isEqualTo(boundFields(VirtBackupRestoreTestBuilder.class));

        assertThat(roundTrip(VirtBackupRestoreTestBuilder.class, "restore-test-changed", changed)).isEqualTo(changed);
        Map<String, String> defaults = Map.of("backup", "${BACKUP}", "timeout", "300", "verbose", "false");
        assertThat(roundTrip(VirtBackupRestoreTestBuilder.class, "restore-test-defaults", defaults))
                .isEqualTo(defaults);
        assertThat(roundTrip(VirtBackupRestoreTestBuilder.class, "restore-test-backup-only",
                Map.of("backup", "${BACKUP}"))).as("fields left out load with the form's defaults").isEqualTo(defaults);
    }

    // ------------------------------------------------------------------ builds

    @Test
    void successfulBackupArchivesItsLogAndManifest() throws Exception {
        Build build = run("backup-web", builder("web", uri, "suspend"));

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains("virt-backup: backup of domain 'web' started: mode suspend");
        Matcher complete = Pattern.compile("virt-backup: backup of domain 'web' complete: .*, in "
                + Pattern.quote(backups + "/web/") + "(\\S+)").matcher(build.console());
        assertThat(complete.find()).as(build.console()).isTrue();
        String stamp = complete.group(1);
        String prefix = "virt-backup/web/" + stamp + "/";
        assertThat(jenkins.artifacts(build.job(), build.number()))
                .containsExactlyInAnyOrder(prefix + "virt-backup.log", prefix + "manifest.json");
        Path temp = jenkins.home().resolve("workspace").resolve(build.job() + "@tmp");
        assertThat(build.console()).as("where the engine said where the backup is")
                .contains(" --result-file " + temp.resolve("virt-backup-run"));
        try (Stream<Path> left = Files.list(temp)) {
            assertThat(left.map(file -> file.getFileName().toString()))
                    .as("the run folder and its result file, read and deleted; the engine's jar kept")
                    .containsExactly(BundledCli.CACHE_DIR);
        }
        for (String file : List.of("virt-backup.log", "manifest.json")) {
            assertThat(jenkins.artifact(build.job(), build.number(), prefix + file)).as(file)
                    .isEqualTo(Files.readAllBytes(backups.resolve("web").resolve(stamp).resolve(file)));
        }
    }

    @Test
    void unknownDomainFailsWithTheEnginesLine() throws Exception {
        Build build = run("backup-missing", builder("no-such-domain", uri, "suspend"));

        assertThat(build.result()).isEqualTo("FAILURE");
        assertThat(build.console()).contains("virt-backup: error: domain 'no-such-domain' not found", "ERROR: "
                + "virt-backup of domain 'no-such-domain' failed with exit code 3 (domain or disk not found): "
                + "domain 'no-such-domain' not found");
    }

    @Test
    void unreachableHypervisorFails() throws Exception {
        String nowhere = "qemu+unix:///system?socket=" + work.resolve("no-libvirtd.sock");
        Build build = run("backup-unreachable", builder("web", nowhere, "suspend"));

        assertThat(build.result()).isEqualTo("FAILURE");
        assertThat(build.console()).contains("ERROR: virt-backup of domain 'web' failed with exit code 4 "
                + "(hypervisor unreachable): cannot connect to " + nowhere);
    }

    /** The form offers only real modes; a config.xml can still hold another. The engine is then never started. */
    @Test
    void badModeFailsBeforeTheEngineStarts() throws Exception {
        Build build = run("backup-bad-mode", builder("web", uri, "sideways"));

        assertThat(build.result()).isEqualTo("FAILURE");
        assertThat(build.console()).contains("ERROR: virt-backup was not started: Unknown mode 'sideways'; "
                + "the modes are: " + String.join(", ", Fields.availableModes()) + ".");
        assertThat(build.console()).doesNotContain("-jar");
    }

    /**
     * The snapshot size from a build parameter, expanded before the run: a size that is none, or 0,
     * fails the build before the engine starts; a size reaches the engine's command line in
     * snapshot-dm mode, which gets past its options to its LVM preflight (the test driver's disks
     * are plain files: the engine refuses them, saying nothing about the size).
     */
    @Test
    void aSnapshotSizeParameterIsCheckedOnceExpanded() throws Exception {
        String job = "backup-snapshot-size";
        jenkins.createJob(job, freestyleJob(null, builderXml(Map.of("domain", "web", "uri", uri, "mode",
                "snapshot-dm", "snapshotSize", "${SIZE}", "backupDir", backups.toString())))
                .replace("<project>\n", "<project>\n" + parameter("SIZE")));

        Build zero = jenkins.waitForBuild(job, jenkins.build(job, Map.of("SIZE", "0")));
        assertThat(zero.result()).isEqualTo("FAILURE");
        assertThat(zero.console()).contains("ERROR: virt-backup was not started: " + Messages.Fields_snapshotSizeZero())
                .doesNotContain("-jar");
        Build bad = jenkins.waitForBuild(job, jenkins.build(job, Map.of("SIZE", "2X")));
        assertThat(bad.console()).contains("ERROR: virt-backup was not started: "
                + Messages.Fields_snapshotSizeBad("2X")).doesNotContain("-jar");

        Build sized = jenkins.waitForBuild(job, jenkins.build(job, Map.of("SIZE", "4G")));
        assertThat(sized.result()).isEqualTo("FAILURE");
        assertThat(sized.console()).contains("--mode snapshot-dm --level full --dir " + backups
                + " --shutdown-timeout 300 --snapshot-size 4G -- web\n",
                "ERROR: virt-backup of domain 'web' failed with exit code ")
                .as("the engine took the size (the preflight's exit code depends on lvm2 being installed)")
                .doesNotContain("--snapshot-size:");
    }

    /**
     * A build parameter {@code LIBVIRT_DEFAULT_URI} pointing into a folder whose name holds
     * {@code $VIRT_BACKUP_IT_MARK}, a variable the controller has. A freestyle build resolves
     * references among its own variables once (core's {@code EnvVars.resolve}, where {@code $$} is
     * one {@code $}): the parameter says {@code $$} so that the build's environment holds the folder's
     * name. The step must pass that on as it is; one more expansion and the engine looks elsewhere.
     */
    @Test
    void dollarInTheEnvironmentReachesTheEngine() throws Exception {
        TestDriverNode node = new TestDriverNode(work.resolve("hv$" + MARK));
        String dollarUri = node.domain("dollar", RunState.RUNNING, true,
                TestDriverNode.fileDisk("vda", node.rawImage("dollar.raw", 4 << 20, 1 << 20, 7), "raw")).write();
        assertThat(dollarUri).contains("$" + MARK);
        String job = "backup-dollar";
        jenkins.createJob(job, freestyleJob(null, builderXml(Map.of("domain", "dollar", "backupDir",
                backups.toString(), "verbose", "true")))
                .replace("<project>\n", "<project>\n" + parameter("LIBVIRT_DEFAULT_URI")));

        Build build = jenkins.waitForBuild(job, jenkins.build(job,
                Map.of("LIBVIRT_DEFAULT_URI", dollarUri.replace("$", "$$"))));

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains("virt-backup: connected to " + dollarUri);
    }

    /**
     * The two restore builders in one job, the backup named by a build parameter: the restore test
     * passes and leaves its scratch folder empty, the restore writes a copy; the same build again
     * passes the test and fails the restore (exit code 9), the copy untouched.
     */
    @Test
    void restoreBuildersExpandTheBackupParameter() throws Exception {
        Path backup = CliProcess.backUp(uri, "web", work.resolve("cli-backups"), work);
        Path scratch = Files.createDirectories(work.resolve("restore-test-scratch"));
        Path copies = Files.createDirectories(work.resolve("copies"));
        String job = "restore-by-parameter";
        jenkins.createJob(job, freestyleJob(null,
                builderXml(VirtBackupRestoreTestBuilder.class, Map.of("backup", "${BACKUP}", "uri", uri,
                        "diskDir", scratch.toString(), "timeout", "2")),
                builderXml(VirtBackupRestoreBuilder.class, Map.of("backup", "${BACKUP}", "uri", uri,
                        "name", "web-copy", "diskDir", copies.toString())))
                .replace("<project>\n", "<project>\n" + parameter("BACKUP")));

        Build build = jenkins.waitForBuild(job, jenkins.build(job, Map.of("BACKUP", backup.toString())));

        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains(" --disk-dir " + scratch + " --timeout 2 -- " + backup,
                " --name web-copy --disk-dir " + copies + " -- " + backup);
        try (Stream<Path> left = Files.list(scratch)) {
            assertThat(left).as("the clone's scratch folder, removed").isEmpty();
        }
        Path vda = copies.resolve("web-copy-vda.raw");
        assertThat(vda).as("named after the new name and the target")
                .hasSameBinaryContentAs(backup.resolve("vda.raw"));
        long modified = Files.getLastModifiedTime(vda).toMillis();

        Build again = jenkins.waitForBuild(job, jenkins.build(job, Map.of("BACKUP", backup.toString())));

        assertThat(again.result()).as(again.console()).isEqualTo("FAILURE");
        assertThat(again.console()).contains("ERROR: virt-backup restore of " + backup + " failed with exit code 9 "
                + "(a domain with that name or UUID, or a file at a disk's destination, already exists; nothing was "
                + "changed): disk vda: " + vda + " exists already");
        assertThat(again.console().indexOf("restore test passed")).as("the test ran first, and passed")
                .isPositive().isLessThan(again.console().indexOf("exit code 9"));
        assertThat(Files.getLastModifiedTime(vda).toMillis()).as("the copy untouched").isEqualTo(modified);
        assertThat(vda).hasSameBinaryContentAs(backup.resolve("vda.raw"));
    }

    /**
     * {@code big} takes seconds: while it runs, a backup of {@code web} succeeds, and a second one
     * of {@code big} fails at once naming the engine process that holds the lock.
     */
    @Test
    void buildsAtTheSameTime() throws Exception {
        jenkins.createJob("big-first", freestyleJob(null, builderXml(Map.of("domain", "big", "uri", uri,
                "backupDir", backups.toString(), "verbose", "true"))));
        jenkins.createJob("web-meanwhile", freestyleJob(null, builder("web", uri, "suspend")));
        jenkins.createJob("big-again", freestyleJob(null, builder("big", uri, "suspend")));
        int first = jenkins.build("big-first");
        jenkins.waitForConsole("big-first", first, "copying disk vda");

        Build web = jenkins.waitForBuild("web-meanwhile", jenkins.build("web-meanwhile"));
        Build again = jenkins.waitForBuild("big-again", jenkins.build("big-again"));
        String firstStillRunning = jenkins.finalResult("big-first", first);
        Matcher busy = Pattern.compile("domain 'big' is busy: backup by process (\\d+) since").matcher(again.console());
        assertThat(busy.find()).as(again.console()).isTrue();
        String holder = ProcessHandle.of(Long.parseLong(busy.group(1))).flatMap(p -> p.info().commandLine())
                .orElse("(no such process)");
        Build big = jenkins.waitForBuild("big-first", first);

        assertThat(firstStillRunning).as("big-first still running when the others had ended").isNull();
        assertThat(web.result()).as(web.console()).isEqualTo("SUCCESS");
        assertThat(again.result()).isEqualTo("FAILURE");
        assertThat(again.console()).contains("ERROR: virt-backup of domain 'big' failed with exit code 6 "
                + "(another run holds the domain's lock, nothing was done): domain 'big' is busy: backup by process ");
        assertThat(holder).as("the process named: big-first's engine").contains("virt-backup-cli-").endsWith("-- big");
        assertThat(big.result()).as(big.console()).isEqualTo("SUCCESS");
    }

    // ------------------------------------------------------------------ helpers

    private static Build run(String job, String builder) throws Exception {
        jenkins.createJob(job, freestyleJob(null, builder));
        return jenkins.waitForBuild(job, jenkins.build(job));
    }

    private static String builder(String domain, String uri, String mode) {
        return builderXml(Map.of("domain", domain, "uri", uri, "mode", mode, "backupDir", backups.toString()));
    }

    /** The builder's element as Jenkins writes it; {@code disks} is given as one blank-separated string. */
    static String builderXml(Map<String, String> fields) {
        return builderXml(VirtBackupBuilder.class, fields);
    }

    /** The element of any of the plugin's builders, as Jenkins writes it. */
    static String builderXml(Class<?> builder, Map<String, String> fields) {
        String element = builder.getName();
        StringBuilder xml = new StringBuilder("    <" + element + " plugin=\"virt-backup\">\n");
        new TreeMap<>(fields).forEach((name, value) -> {
            xml.append("      <").append(name).append('>');
            if (List.of("disks", "domains", "excludes").contains(name)) {
                for (String disk : value.split(" ")) {
                    xml.append("<string>").append(xml(disk)).append("</string>");
                }
            } else if (name.equals("retention")) {
                for (String count : value.split(" ")) {
                    String[] nameAndValue = count.split("=");
                    xml.append('<').append(nameAndValue[0]).append('>').append(nameAndValue[1])
                            .append("</").append(nameAndValue[0]).append('>');
                }
            } else {
                xml.append(xml(value));
            }
            xml.append("</").append(name).append(">\n");
        });
        return xml.append("    </").append(element).append('>').toString();
    }

    /** A string parameter of that name, as a job's {@code config.xml} declares it. */
    private static String parameter(String name) {
        return "  <properties>\n    <hudson.model.ParametersDefinitionProperty>\n      <parameterDefinitions>\n"
                + "        <hudson.model.StringParameterDefinition><name>" + name + "</name>"
                + "</hudson.model.StringParameterDefinition>\n      </parameterDefinitions>\n"
                + "    </hudson.model.ParametersDefinitionProperty>\n  </properties>\n";
    }

    /**
     * Creates a job with these fields, has Jenkins save it from the object it loaded (a description
     * change saves the whole job), and reads the builder's fields back from the saved file.
     */
    private static Map<String, String> roundTrip(String job, Map<String, String> fields) throws Exception {
        return roundTrip(VirtBackupBuilder.class, job, fields);
    }

    private static Map<String, String> roundTrip(Class<?> builder, String job, Map<String, String> fields)
            throws Exception {
        jenkins.createJob(job, freestyleJob(null, builderXml(builder, fields)));
        String before = jenkins.jobConfig(job);
        jenkins.post("/job/" + job + "/submitDescription", "description=saved+by+Jenkins");
        String saved = jenkins.jobConfig(job);
        assertThat(saved).as("saved again by Jenkins").isNotEqualTo(before).contains("saved by Jenkins");
        return builderFields(builder, saved);
    }

    /**
     * The builder element's fields from a saved config.xml; a list's items joined with blanks, and
     * the retention's counts as {@code keepDaily=7}, joined with blanks.
     */
    static Map<String, String> builderFields(String configXml) throws Exception {
        return builderFields(VirtBackupBuilder.class, configXml);
    }

    static Map<String, String> builderFields(Class<?> builderClass, String configXml) throws Exception {
        Element root = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(configXml.getBytes(StandardCharsets.UTF_8))).getDocumentElement();
        Element builder = (Element) root.getElementsByTagName(builderClass.getName()).item(0);
        Map<String, String> fields = new LinkedHashMap<>();
        for (Node child = builder.getFirstChild(); child != null; child = child.getNextSibling()) {
            if (child instanceof Element field) {
                List<String> items = new ArrayList<>();
                for (Node item = field.getFirstChild(); item != null; item = item.getNextSibling()) {
                    if (item instanceof Element element) {
                        // A list's items are strings; a nested describable's are its fields, by name.
                        items.add(field.getTagName().equals("retention")
                                ? element.getTagName() + "=" + element.getTextContent() : element.getTextContent());
                    }
                }
                fields.put(field.getTagName(), items.isEmpty() ? field.getTextContent() : String.join(" ", items));
            }
        }
        return fields;
    }

    /** The constructor's parameters and every {@code @DataBoundSetter}: what a configuration holds. */
    static Set<String> boundFields() {
        return boundFields(VirtBackupBuilder.class);
    }

    static Set<String> boundFields(Class<?> builder) {
        Set<String> names = new TreeSet<>();
        for (Parameter parameter : builder.getConstructors()[0].getParameters()) {
            names.add(parameter.getName());
        }
        for (Method method : builder.getMethods()) {
            if (method.isAnnotationPresent(DataBoundSetter.class)) {
                names.add(Character.toLowerCase(method.getName().charAt(3)) + method.getName().substring(4));
            }
        }
        return names;
    }
}
