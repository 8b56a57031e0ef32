package io.jenkins.plugins.virtbackup.jenkins;

import static io.jenkins.plugins.virtbackup.testing.JenkinsController.freestyleJob;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import io.jenkins.plugins.virtbackup.engine.store.Json;
import io.jenkins.plugins.virtbackup.testing.JenkinsController;
import io.jenkins.plugins.virtbackup.testing.JenkinsController.Build;
import java.io.File;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.htmlunit.BrowserVersion;
import org.htmlunit.ScriptException;
import org.htmlunit.WebClient;
import org.htmlunit.WebRequest;
import org.htmlunit.WebResponse;
import org.htmlunit.WebResponseData;
import org.htmlunit.html.DomElement;
import org.htmlunit.html.HtmlCheckBoxInput;
import org.htmlunit.html.HtmlElement;
import org.htmlunit.html.HtmlForm;
import org.htmlunit.html.HtmlInput;
import org.htmlunit.html.HtmlOption;
import org.htmlunit.html.HtmlPage;
import org.htmlunit.html.HtmlSelect;
import org.htmlunit.javascript.JavaScriptErrorListener;
import org.htmlunit.util.WebConnectionWrapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The freestyle step's configuration form, served by a real Jenkins 2.541.3 (unstyled: its webpack
 * bundles are not built, its classic scripts are) and used as a person would: through HtmlUnit,
 * the browser behind jenkins-test-harness's web client, with JavaScript on; and once through a real
 * Chromium (Debian's {@code chromium} and {@code chromium-driver}, driven by Selenium).
 *
 * <p>One thing the missing bundles do is done here instead: when a configuration page loads,
 * Jenkins' hetero-list script takes the templates of "Add build step" and "Add post-build action"
 * out of the form. Left in, they are submitted as steps of their own (and the archiver's template
 * makes the save fail with HTTP 500). {@link #REMOVE_TEMPLATES} removes them before saving.
 * Both browsers reach 127.0.0.1 only.
 */
class FormsJenkinsIT {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** What Jenkins' hetero-list script (in the unbuilt webpack bundles) does on page load. */
    static final String REMOVE_TEMPLATES =
            "document.querySelectorAll('.prototypes.to-be-removed').forEach(t => t.remove())";
    private static final Path OUTPUT = Path.of(System.getProperty("virtbackup.it.output", "target/jenkins-it"));

    @TempDir
    static Path work;
    static JenkinsController jenkins;
    static String uri;
    static Path backups;
    WebClient browser;
    /** Script errors on the pages, except the unbuilt bundles' 404s: there must be none. */
    final List<String> scriptErrors = new ArrayList<>();

    @BeforeAll
    static void startJenkins() throws Exception {
        TestDriverNode node = new TestDriverNode(work.resolve("images"));
        uri = node.domain("web", RunState.RUNNING, true,
                TestDriverNode.fileDisk("vda", node.rawImage("web-a.raw", 8 << 20, 1 << 20, 31), "raw"),
                TestDriverNode.fileDisk("vdb", node.rawImage("web-b.raw", 4 << 20, 1 << 20, 32), "raw")).write();
        backups = work.resolve("backups");
        jenkins = JenkinsController.start("FormsJenkinsIT", work, Map.of());
    }

    @AfterAll
    static void stopJenkins() throws Exception {
        if (jenkins != null) {
            jenkins.close();
        }
    }

    @BeforeEach
    void openBrowser() {
        browser = new WebClient(BrowserVersion.CHROME);
        // The unbuilt webpack bundles answer 404; the page works without them.
        browser.getOptions().setThrowExceptionOnFailingStatusCode(false);
        browser.getOptions().setPrintContentOnFailingStatusCode(false);
        browser.setJavaScriptErrorListener(new ScriptErrors());
        browser.getOptions().setCssEnabled(false);
        // As jenkins-test-harness does: hudson-behavior.js checks fields and fills lists with fetch().
        browser.getOptions().setFetchPolyfillEnabled(true);
        new WebConnectionWrapper(browser) {
            @Override
            public WebResponse getResponse(WebRequest request) throws IOException {
                if (!request.getUrl().getHost().equals("127.0.0.1")) {
                    return new WebResponse(new WebResponseData(new byte[0], 403, "not loopback", List.of()),
                            request, 0);
                }
                return super.getResponse(request);
            }
        };
    }

    @AfterEach
    void closeBrowser() throws IOException {
        browser.close();
        assertThat(scriptErrors).as("script errors on Jenkins' pages").isEmpty();
        // A view that fails to render logs Jelly's exception, while the page may still show something.
        assertThat(Files.readString(jenkins.home().resolve("jenkins.log"))).as("Jelly errors in the Jenkins log")
                .doesNotContain("org.apache.commons.jelly");
    }

    /** Records what went wrong in the pages' scripts, leaving out the bundles this runtime lacks. */
    private final class ScriptErrors implements JavaScriptErrorListener {
        @Override
        public void scriptException(HtmlPage page, ScriptException e) {
            scriptErrors.add(page.getUrl() + ": " + e.getMessage());
        }

        @Override
        public void timeoutError(HtmlPage page, long allowed, long executionTime) {
            scriptErrors.add(page.getUrl() + ": script ran over " + allowed + " ms");
        }

        @Override
        public void malformedScriptURL(HtmlPage page, String url, MalformedURLException e) {
            scriptErrors.add(page.getUrl() + ": bad script URL " + url);
        }

        @Override
        public void loadScriptError(HtmlPage page, URL script, Exception e) {
            if (!script.getPath().contains("/jsbundles/")) {
                scriptErrors.add(page.getUrl() + ": could not load " + script);
            }
        }

        @Override
        public void warn(String message, String sourceName, int line, String lineSource, int lineOffset) {
            // Warnings are not errors.
        }
    }

    /** Every field filled in through the page, saved with its button, read back, and built. */
    @Test
    void everyFieldThroughTheConfigurationPage() throws Exception {
        String job = "form-all-fields";
        jenkins.createJob(job, freestyleJob(null, FreestyleJenkinsIT.builderXml(Map.of("domain", "web"))));
        Map<String, String> entered = new LinkedHashMap<>();
        entered.put("domain", "web");
        entered.put("uri", uri);
        entered.put("mode", "shutdown");
        entered.put("level", "auto");
        entered.put("disks", "vdb");
        entered.put("backupDir", backups.toString());
        entered.put("shutdownTimeout", "42");
        entered.put("forceOff", "true");
        entered.put("verify", "true");
        entered.put("compress", "true");
        entered.put("verbose", "true");
        entered.put("allDomains", "false");
        entered.put("parallel", "1");
        entered.put("unstableOnFailure", "false");
        entered.put("quiesce", "true");
        entered.put("snapshotSize", "2G");
        entered.put("overlayDir", work.resolve("form-overlays").toString());
        entered.put("stateDir", work.resolve("form-state").toString());
        entered.put("errorLog", work.resolve("form-errors.log").toString());
        Set<String> bound = new TreeSet<>(entered.keySet());
        bound.addAll(List.of("domains", "excludes"));   // empty: one domain; tried by the next test
        bound.add("retention");                          // off; its counts are tried by the next test
        assertThat(bound).as("every field the builder binds").isEqualTo(FreestyleJenkinsIT.boundFields());

        HtmlPage page = configure(job);
        assertThat(options(page.getElementByName("_.mode"))).as("filled from doFillModeItems")
                .isEqualTo(Fields.availableModes());
        HtmlSelect levels = page.getElementByName("_.level");
        assertThat(options(levels)).as("filled from doFillLevelItems").containsExactly("full", "inc", "diff", "auto");
        assertThat(levels.getSelectedOptions()).as("the level the job has").extracting(HtmlOption::getValueAttribute)
                .containsExactly("full");
        fill(page, entered);
        assertThat(validationOf(page, "mode")).as("quiesce in a mode that cannot freeze: a warning")
                .isEqualTo(Messages.Fields_quiesceUnused("shutdown"));
        assertThat(validationOf(page, "snapshotSize")).as("a snapshot size in a mode without snapshots: a warning")
                .isEqualTo(Messages.Fields_snapshotSizeUnused("shutdown"));
        HtmlPage saved = save(page);

        assertThat(saved.getUrl().getPath()).isEqualTo("/job/" + job + "/");
        assertThat(FreestyleJenkinsIT.builderFields(jenkins.jobConfig(job))).isEqualTo(entered);
        assertThat(values(configure(job), entered.keySet())).as("the page shows what was saved").isEqualTo(entered);
        Build build = jenkins.waitForBuild(job, jenkins.build(job));
        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains("--mode shutdown --level auto --dir " + backups
                + " --shutdown-timeout 42 --force-off --quiesce --verify --compress --overlay-dir "
                + entered.get("overlayDir") + " --state-dir " + entered.get("stateDir") + " --error-log "
                + entered.get("errorLog") + " --verbose -- web vdb",
                "--quiesce applies to a running domain in the live modes only: ignored",
                "virt-backup: backup of domain 'web' complete: 2 file(s)");
        assertThat(build.console()).as("left out: shutdown mode takes no snapshots")
                .doesNotContain("--snapshot-size");
        assertThat(work.resolve("form-state")).as("the engine's locks and journals went there").isDirectory();
    }

    /** The fields of several domains and of all, through the page: saved, shown again, and built. */
    @Test
    void manyDomainFieldsThroughTheConfigurationPage() throws Exception {
        String job = "form-many-domains";
        jenkins.createJob(job, freestyleJob(null, FreestyleJenkinsIT.builderXml(Map.of("domain", "web"))));
        Map<String, String> entered = new LinkedHashMap<>();
        entered.put("domain", "");
        entered.put("uri", uri);
        entered.put("backupDir", backups.toString());
        entered.put("allDomains", "true");
        entered.put("excludes", "nosuch-* other?");
        entered.put("parallel", "2");
        entered.put("unstableOnFailure", "true");

        HtmlPage page = configure(job);
        fill(page, entered);
        // The retention: its checkbox opens the nested form of the counts.
        ((HtmlCheckBoxInput) page.getElementByName("_.retention")).setChecked(true);
        fill(page, Map.of("keepDaily", "7", "keepWeekly", "4"));
        save(page);

        Map<String, String> saved = FreestyleJenkinsIT.builderFields(jenkins.jobConfig(job));
        assertThat(saved).containsEntry("retention",
                "keepLast=0 keepHourly=0 keepDaily=7 keepWeekly=4 keepMonthly=0 keepYearly=0");
        assertThat(saved).doesNotContainKeys("domain", "domains")
                .containsEntry("allDomains", "true").containsEntry("excludes", "nosuch-* other?")
                .containsEntry("parallel", "2").containsEntry("unstableOnFailure", "true");
        entered.remove("domain");
        assertThat(values(configure(job), entered.keySet())).as("the page shows what was saved").isEqualTo(entered);
        Build build = jenkins.waitForBuild(job, jenkins.build(job));
        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains("--keep-daily 7 --keep-weekly 4 --all --exclude nosuch-* --exclude "
                + "other? --parallel 2", "virt-backup: domain 'web': complete, in " + backups + "/web/");

        HtmlPage again = configure(job);
        assertThat(validate(again, "domain", "web")).as("one domain and all domains")
                .isEqualTo(Messages.Fields_domainChoice());
        assertThat(validate(again, "domains", "web ../db")).isEqualTo(Messages.Fields_domainUnsafe("../db"));
        assertThat(validate(again, "parallel", "0")).isEqualTo(Messages.Fields_parallelNotPositive());
        assertThat(validate(again, "keepDaily", "-1")).isEqualTo(Messages.BackupRetention_negative());
    }

    /** Each bad value gets its message under the field as soon as the field changes. */
    @Test
    void badValuesShowTheirMessages() throws Exception {
        String job = "form-bad-values";
        jenkins.createJob(job, freestyleJob(null, FreestyleJenkinsIT.builderXml(Map.of("domain", "web"))));
        HtmlPage page = configure(job);
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("domain", "../etc");
        bad.put("uri", "kvm1");
        bad.put("disks", "v\u0001da");
        bad.put("backupDir", "backups");
        bad.put("shutdownTimeout", "0");
        Map<String, String> shown = new LinkedHashMap<>();
        for (Map.Entry<String, String> field : bad.entrySet()) {
            shown.put(field.getKey(), validate(page, field.getKey(), field.getValue()));
        }

        assertThat(shown.get("domain")).isEqualTo("Domain name '../etc' cannot be used as a directory name.");
        assertThat(shown.get("uri"))
                .isEqualTo("'kvm1' is not a libvirt URI (like qemu:///system or qemu+ssh://host/system).");
        assertThat(shown.get("disks")).startsWith("Disk 'v").endsWith("' contains control characters.");
        assertThat(shown.get("backupDir"))
                .isEqualTo("The backup directory must be an absolute path on the node, not 'backups'.");
        assertThat(shown.get("shutdownTimeout")).isEqualTo("The shutdown timeout must be a positive number of seconds.");
        assertThat(validate(page, "uri", "qemu+ssh://root:secret@kvm1/system"))
                .isEqualTo("Do not put a password in the URI: the command line is shown in the build log.");
        assertThat(validate(page, "domain", "")).isEqualTo("The domain to back up is required.");
        assertThat(validate(page, "domain", "web")).as("a good value clears the message").isEmpty();

        assertThat(validate(page, "overlayDir", "overlays"))
                .isEqualTo("The overlay directory must be an absolute path on the node, not 'overlays'.");
        assertThat(validate(page, "stateDir", "state"))
                .isEqualTo("The state directory must be an absolute path on the node, not 'state'.");
        assertThat(validate(page, "errorLog", "errors.log"))
                .isEqualTo("The error log must be an absolute path on the node, not 'errors.log'.");
        assertThat(validate(page, "stateDir", "${WORKSPACE}/state")).as("a build variable, checked once expanded")
                .isEmpty();
        // The mode's check depends on the overlay directory and quiesce: it runs again when they change.
        assertThat(validate(page, "overlayDir", "/srv/overlays")).isEmpty();
        assertThat(validationOf(page, "mode"))
                .isEqualTo("The overlay directory is used by snapshot-libvirt mode only: mode suspend ignores it.");
        ((HtmlSelect) page.getElementByName("_.mode")).setSelectedAttribute("snapshot-libvirt", true);
        browser.waitForBackgroundJavaScript(5_000);
        ((HtmlCheckBoxInput) page.getElementByName("_.quiesce")).setChecked(true);
        browser.waitForBackgroundJavaScript(5_000);
        assertThat(validationOf(page, "mode")).as("snapshot-libvirt freezes and uses overlays").isEmpty();
        ((HtmlSelect) page.getElementByName("_.mode")).setSelectedAttribute("suspend", true);
        browser.waitForBackgroundJavaScript(5_000);
        assertThat(validationOf(page, "mode")).isEqualTo("Quiesce applies to the live modes only "
                + "(snapshot-libvirt, live): in mode suspend the engine ignores it.");

        // The snapshot size: what the engine's parser refuses is an error, before the mode is looked at.
        assertThat(validate(page, "snapshotSize", "2X")).isEqualTo("The snapshot size must be a size such as 512M "
                + "or 2G (K, M, G, T are binary units; a plain number is bytes), not '2X'.");
        assertThat(validate(page, "snapshotSize", "0M"))
                .isEqualTo("The snapshot size must be more than 0; leave it empty for the engine's default.");
        assertThat(validate(page, "snapshotSize", "4G")).as("its check depends on the mode, which is suspend")
                .isEqualTo("The snapshot size is used by snapshot-dm mode only: in mode suspend the step leaves it "
                        + "out.");
        ((HtmlSelect) page.getElementByName("_.mode")).setSelectedAttribute("snapshot-dm", true);
        assertThat(validationOf(page, "snapshotSize")).as("checked again as the mode changes").isEmpty();
        assertThat(validate(page, "snapshotSize", "512 MiB")).isEmpty();
        assertThat(validate(page, "snapshotSize", "")).as("empty: the engine's default").isEmpty();
    }

    /** Both restore builders: every field filled in through the page, saved with its button, read back. */
    @Test
    void everyRestoreFieldThroughTheConfigurationPage() throws Exception {
        Map<String, String> restore = new LinkedHashMap<>();
        restore.put("backup", backups + "/web/20261203T021500Z");
        restore.put("uri", uri);
        restore.put("name", "web-copy");
        restore.put("diskDir", work.resolve("restored").toString());
        restore.put("start", "true");
        restore.put("verbose", "true");
        restore.put("stateDir", work.resolve("restore-state").toString());
        restore.put("errorLog", work.resolve("restore-errors.log").toString());
        Map<String, String> test = new LinkedHashMap<>();
        test.put("backup", "${BACKUP}");
        test.put("uri", uri);
        test.put("timeout", "42");
        test.put("diskDir", work.resolve("scratch").toString());
        test.put("consolePattern", "^web login: $");
        test.put("verbose", "true");
        test.put("proof", "console");
        test.put("stateDir", "${STATE}");
        test.put("errorLog", work.resolve("test-errors.log").toString());

        Map<Class<?>, Map<String, String>> forms = Map.of(VirtBackupRestoreBuilder.class, restore,
                VirtBackupRestoreTestBuilder.class, test);
        for (Map.Entry<Class<?>, Map<String, String>> form : forms.entrySet()) {
            Class<?> builder = form.getKey();
            Map<String, String> entered = form.getValue();
            assertThat(entered.keySet()).as("every field %s binds", builder.getSimpleName())
                    .isEqualTo(FreestyleJenkinsIT.boundFields(builder));
            String job = "form-" + builder.getSimpleName();
            jenkins.createJob(job, freestyleJob(null, FreestyleJenkinsIT.builderXml(builder,
                    Map.of("backup", "/srv/backup/web/20261203T021500Z"))));

            HtmlPage page = configure(job);
            fill(page, entered);
            HtmlPage saved = save(page);

            assertThat(saved.getUrl().getPath()).isEqualTo("/job/" + job + "/");
            assertThat(FreestyleJenkinsIT.builderFields(builder, jenkins.jobConfig(job))).isEqualTo(entered);
            assertThat(values(configure(job), entered.keySet())).as("the page shows what was saved")
                    .isEqualTo(entered);
        }
    }

    /** The restore forms' own checks: each bad value gets its message as soon as the field changes. */
    @Test
    void badRestoreValuesShowTheirMessages() throws Exception {
        String restoreJob = "form-restore-bad-values";
        jenkins.createJob(restoreJob, freestyleJob(null, FreestyleJenkinsIT.builderXml(VirtBackupRestoreBuilder.class,
                Map.of("backup", "/srv/backup/web/20261203T021500Z"))));
        HtmlPage restore = configure(restoreJob);
        assertThat(validate(restore, "backup", "web/20261203T021500Z")).isEqualTo("The backup to restore must be an "
                + "absolute path on the node (DIR/DOMAIN/YYYYMMDDTHHMMSSZ), not 'web/20261203T021500Z'.");
        assertThat(validate(restore, "backup", "")).isEqualTo(
                "The backup to restore is required: its directory on the node, DIR/DOMAIN/YYYYMMDDTHHMMSSZ.");
        assertThat(validate(restore, "name", "web/copy"))
                .isEqualTo("Name 'web/copy' cannot be used: the restored disks are named after it.");
        assertThat(validate(restore, "diskDir", "restored"))
                .isEqualTo("The disk directory must be an absolute path on the node, not 'restored'.");
        assertThat(validate(restore, "uri", "kvm1"))
                .isEqualTo("'kvm1' is not a libvirt URI (like qemu:///system or qemu+ssh://host/system).");
        assertThat(validate(restore, "name", "web-copy")).as("a good value clears the message").isEmpty();
        assertThat(validate(restore, "errorLog", "errors.log"))
                .isEqualTo("The error log must be an absolute path on the node, not 'errors.log'.");

        String testJob = "form-restore-test-bad-values";
        jenkins.createJob(testJob, freestyleJob(null, FreestyleJenkinsIT.builderXml(
                VirtBackupRestoreTestBuilder.class, Map.of("backup", "/srv/backup/web/20261203T021500Z"))));
        HtmlPage test = configure(testJob);
        assertThat(validate(test, "timeout", "0")).isEqualTo("The timeout must be a positive number of seconds.");
        assertThat(validate(test, "consolePattern", "login: (")).startsWith("'login: (' is not a regular expression: ");
        assertThat(validate(test, "diskDir", "scratch"))
                .isEqualTo("The disk directory must be an absolute path on the node, not 'scratch'.");
        assertThat(validate(test, "consolePattern", "login: $")).as("a good value clears the message").isEmpty();
        assertThat(options((HtmlSelect) test.getElementByName("_.proof"))).as("filled from doFillProofItems")
                .containsExactly("", "agent", "console", "running");
        assertThat(validate(test, "stateDir", "state"))
                .isEqualTo("The state directory must be an absolute path on the node, not 'state'.");
    }

    /**
     * The pipeline steps' forms through the snippet generator ({@code /pipeline-syntax/generateSnippet},
     * what its page posts): the new arguments written from the form's fields, defaults left out; then
     * the generated backup runs as written and its arguments reach the engine.
     */
    @Test
    void snippetsOfTheStepsCarryTheEngineOptions() throws Exception {
        Path state = work.resolve("snippet-state");
        Path errors = work.resolve("snippet-errors.log");
        Map<String, Object> form = new LinkedHashMap<>();
        form.put("stapler-class", VirtBackupStep.class.getName());
        form.put("domain", "web");
        form.put("uri", uri);
        form.put("backupDir", backups.toString());
        form.put("quiesce", true);
        form.put("snapshotSize", "2G");
        form.put("overlayDir", "");
        form.put("stateDir", state.toString());
        form.put("errorLog", errors.toString());
        String backup = snippet(form);
        assertThat(backup).startsWith("virtBackup ").contains("quiesce: true", "stateDir: '" + state + "'",
                "errorLog: '" + errors + "'", "snapshotSize: '2G'").doesNotContain("overlayDir");
        form.put("overlayDir", "/srv/overlays");
        assertThat(snippet(form)).contains("overlayDir: '/srv/overlays'");
        assertThat(snippet(Map.of("stapler-class", VirtBackupStep.class.getName(), "domain", "web", "quiesce", false,
                "snapshotSize", "", "overlayDir", " ", "stateDir", "", "errorLog", ""))).as("defaults left out")
                .isEqualTo("virtBackup 'web'");

        assertThat(snippet(Map.of("stapler-class", VirtBackupRestoreTestStep.class.getName(), "backup", "/b/w/s",
                "timeout", "300", "proof", "agent", "stateDir", "/var/lib/vb", "errorLog", "")))
                .isEqualTo("virtBackupRestoreTest backup: '/b/w/s', proof: 'agent', stateDir: '/var/lib/vb'");
        assertThat(snippet(Map.of("stapler-class", VirtBackupRestoreTestStep.class.getName(), "backup", "/b/w/s",
                "timeout", "300", "proof", "", "stateDir", "", "errorLog", "")))
                .as("the strongest proof, the default, left out").isEqualTo("virtBackupRestoreTest '/b/w/s'");
        assertThat(snippet(Map.of("stapler-class", VirtBackupRestoreStep.class.getName(), "backup", "/b/w/s",
                "stateDir", "", "errorLog", "/var/log/vb.log")))
                .isEqualTo("virtBackupRestore backup: '/b/w/s', errorLog: '/var/log/vb.log'");

        String job = "snippet-backup";
        jenkins.createJob(job, JenkinsController.pipelineJob("node {\n  " + backup + "\n}"));
        Build build = jenkins.waitForBuild(job, jenkins.build(job));
        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        assertThat(build.console()).contains("--quiesce --state-dir " + state + " --error-log " + errors + " -- web",
                "--quiesce applies to a running domain in the live modes only: ignored");
        assertThat(build.console()).as("suspend mode takes no snapshots: the size is left out")
                .doesNotContain("--snapshot-size");
        assertThat(state).as("the engine's locks and journals went there").isDirectory();
    }

    /** {@code POST /pipeline-syntax/generateSnippet}: what the snippet generator's page asks for. */
    private static String snippet(Map<String, Object> form) throws Exception {
        return jenkins.postForText("/pipeline-syntax/generateSnippet",
                "json=" + URLEncoder.encode(Json.write(form), StandardCharsets.UTF_8)).strip();
    }

    /** One real browser: change a field, save with the button, then open the build's page. */
    @Test
    void chromiumSavesTheFormAndOpensTheBuildPage() throws Exception {
        String job = "form-chromium";
        jenkins.createJob(job, freestyleJob(null, FreestyleJenkinsIT.builderXml(Map.of("domain", "web",
                "uri", uri))));
        WebDriver chromium = chromium();
        try {
            chromium.get(jenkins.url() + "/job/" + job + "/configure");
            WebElement backupDir = chromium.findElement(By.name("_.backupDir"));
            backupDir.clear();
            backupDir.sendKeys(backups.toString());
            ((JavascriptExecutor) chromium).executeScript(REMOVE_TEMPLATES);
            chromium.findElement(By.name("Submit")).click();
            JenkinsController.waitFor("the job page after saving", Duration.ofSeconds(60),
                    () -> chromium.getCurrentUrl().equals(jenkins.url() + "/job/" + job + "/") ? true : null);
            assertThat(FreestyleJenkinsIT.builderFields(jenkins.jobConfig(job))).containsEntry("backupDir",
                    backups.toString());

            int number = jenkins.build(job);
            Build build = jenkins.waitForBuild(job, number);
            assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
            chromium.get(jenkins.url() + "/job/" + job + "/" + number + "/");
            JenkinsController.waitFor("the build page", Duration.ofSeconds(60),
                    () -> chromium.getTitle().contains("#" + number) ? true : null);
            String text = chromium.findElement(By.tagName("body")).getText();
            Files.createDirectories(OUTPUT);
            Files.write(OUTPUT.resolve("build-page-chromium.png"),
                    ((TakesScreenshot) chromium).getScreenshotAs(OutputType.BYTES));
            assertThat(chromium.getTitle()).contains(job);
            assertThat(text).contains("Console Output", "Success");
        } finally {
            chromium.quit();
        }
    }

    // ------------------------------------------------------------------ HtmlUnit

    private HtmlPage configure(String job) throws Exception {
        HtmlPage page = browser.getPage(jenkins.url() + "/job/" + job + "/configure");
        browser.waitForBackgroundJavaScript(5_000);
        return page;
    }

    /** Types into each field; opens "Advanced" first, as a person must to see the rest. */
    private static void fill(HtmlPage page, Map<String, String> values) throws Exception {
        for (DomElement button : page.getElementsByTagName("button")) {
            if (button.getAttribute("class").contains("advancedButton")) {
                ((HtmlElement) button).click();
            }
        }
        for (Map.Entry<String, String> field : values.entrySet()) {
            DomElement element = page.getElementByName("_." + field.getKey());
            if (element instanceof HtmlSelect select) {
                select.setSelectedAttribute(field.getValue(), true);
            } else if (element instanceof HtmlCheckBoxInput box) {
                box.setChecked(Boolean.parseBoolean(field.getValue()));
            } else {
                HtmlInput input = (HtmlInput) element;
                input.setValue("");
                input.type(field.getValue());
            }
        }
    }

    private HtmlPage save(HtmlPage page) throws Exception {
        page.executeJavaScript(REMOVE_TEMPLATES);
        HtmlForm form = page.getFormByName("config");
        HtmlPage result = form.getButtonByName("Submit").click();
        browser.waitForBackgroundJavaScript(5_000);
        return result;
    }

    private static Map<String, String> values(HtmlPage page, Iterable<String> fields) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String field : fields) {
            DomElement element = page.getElementByName("_." + field);
            if (element instanceof HtmlSelect select) {
                values.put(field, select.getSelectedOptions().get(0).getValueAttribute());
            } else if (element instanceof HtmlCheckBoxInput box) {
                values.put(field, Boolean.toString(box.isChecked()));
            } else {
                values.put(field, ((HtmlInput) element).getValue());
            }
        }
        return values;
    }

    private static List<String> options(HtmlSelect select) {
        List<String> values = new ArrayList<>();
        for (HtmlOption option : select.getOptions()) {
            values.add(option.getValueAttribute());
        }
        return values;
    }

    /** The text of a field's validation area once the checks in flight have answered. */
    private String validationOf(HtmlPage page, String field) {
        browser.waitForBackgroundJavaScript(5_000);
        DomElement element = page.getElementByName("_." + field);
        DomElement area = element.getFirstByXPath("ancestor::div[contains(@class,'jenkins-form-item')][1]"
                + "/div[contains(@class,'validation-error-area')]");
        return area.asNormalizedText();
    }

    /** Sets a field, lets it change, and returns the text of its validation area once checked. */
    private String validate(HtmlPage page, String field, String value) throws Exception {
        HtmlInput input = page.getElementByName("_." + field);
        DomElement area = input.getFirstByXPath("ancestor::div[contains(@class,'jenkins-form-item')][1]"
                + "/div[contains(@class,'validation-error-area')]");
        area.removeAllChildren();
        input.setValue(value);
        input.fireEvent("change");
        browser.waitForBackgroundJavaScript(5_000);
        return area.asNormalizedText();
    }

    // ------------------------------------------------------------------ Chromium

    /** Debian's chromium, headless; missing, the test is skipped (fails under CI, which installs it). */
    private static WebDriver chromium() {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            String why = "no " + CHROMIUM + " or " + CHROMEDRIVER + " (Debian's chromium, chromium-driver)";
            if ("true".equals(System.getenv("CI"))) {
                fail(why);
            }
            assumeTrue(false, why);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // As root, in a container: no sandbox; no screen: headless.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1024",
                // Loopback only: no name resolves but 127.0.0.1, no background traffic.
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--disable-background-networking",
                "--disable-component-update", "--no-first-run");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }
}
