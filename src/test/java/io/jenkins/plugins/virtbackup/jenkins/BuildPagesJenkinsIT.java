package io.jenkins.plugins.virtbackup.jenkins;

import static io.jenkins.plugins.virtbackup.testing.JenkinsController.freestyleJob;
import static io.jenkins.plugins.virtbackup.testing.JenkinsController.pipelineJob;
import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.testing.JenkinsController;
import io.jenkins.plugins.virtbackup.testing.JenkinsController.Build;
import io.jenkins.plugins.virtbackup.testing.ProcessTestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build page summary, the badge and the job page trend in a real Jenkins 2.541.3 controller,
 * after freestyle and Pipeline backups on libvirt's test driver: the pages render what the manifests
 * say, their links answer, and the controller's log has no Jelly or JEXL error.
 */
class BuildPagesJenkinsIT {
    /** A link by its class; Jenkins writes an element's attributes in an order of its own. */
    private static final Pattern LOG_LINK = link("virt-backup-log");
    private static final Pattern MANIFEST_LINK = link("virt-backup-manifest");

    @TempDir
    static Path work;
    static JenkinsController jenkins;
    /** {@code web}: 8 MiB raw, 2 MiB of it data. */
    static String uri;
    static Path backups;

    @BeforeAll
    static void startJenkins() throws Exception {
        uri = ProcessTestNode.webAndBig(work.resolve("images"));
        backups = work.resolve("backups");
        jenkins = JenkinsController.start("BuildPagesJenkinsIT", work, Map.of());
    }

    @AfterAll
    static void stopJenkins() throws Exception {
        if (jenkins != null) {
            jenkins.close();
        }
    }

    @Test
    void aFreestyleBuildShowsItsBackupAndTheJobItsTrend() throws Exception {
        jenkins.createJob("pages-freestyle", freestyleJob(null, FreestyleJenkinsIT.builderXml(Map.of("domain", "web",
                "uri", uri, "mode", "suspend", "backupDir", backups.toString(), "verify", "true"))));
        for (int n = 1; n <= 2; n++) {
            Build build = jenkins.waitForBuild("pages-freestyle", jenkins.build("pages-freestyle"));
            assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");
        }

        String page = jenkins.get("/job/pages-freestyle/2/");
        assertSummaryOfWeb(page, "suspend");
        assertThat(cell(page, "virt-backup-verified")).isEqualTo("yes, every file read back");
        assertLinksAnswer(page);

        String job = jenkins.get("/job/pages-freestyle/");
        assertThat(job).contains("class=\"virt-backup-trend\"", "Data moved", "Duration", "Guest downtime");
        assertThat(count(job, "class=\"virt-backup-svg\"")).isEqualTo(3);
        assertThat(count(job, "class=\"virt-backup-point\"")).as("a point per build in each of the 3 charts")
                .isEqualTo(6);
        assertThat(count(job, "data-build=\"1\"")).isEqualTo(3);
        assertThat(count(job, "data-build=\"2\"")).isEqualTo(3);
        assertThat(job).containsPattern("points=\"64\\.0,[0-9.]+ 312\\.0,[0-9.]+\"");

        String history = jenkins.get("/job/pages-freestyle/buildHistory/ajax");
        assertThat(count(history, "class=\"virt-backup-badge\"")).as(history).isEqualTo(2);
        assertThat(history).containsPattern("class=\"virt-backup-badge\"[^>]*>full</span>");
        assertNoViewErrorsInTheLog();
    }

    @Test
    void aPipelineBuildShowsItsBackupAndABadge() throws Exception {
        jenkins.createJob("pages-pipeline", pipelineJob("node { virtBackup domain: 'web', uri: '" + uri
                + "', backupDir: '" + backups + "' }"));
        Build build = jenkins.waitForBuild("pages-pipeline", jenkins.build("pages-pipeline"));
        assertThat(build.result()).as(build.console()).isEqualTo("SUCCESS");

        String page = jenkins.get("/job/pages-pipeline/1/");
        assertSummaryOfWeb(page, "suspend");
        assertThat(cell(page, "virt-backup-verified")).isEqualTo("no");
        assertLinksAnswer(page);
        Build second = jenkins.waitForBuild("pages-pipeline", jenkins.build("pages-pipeline"));
        assertThat(second.result()).as(second.console()).isEqualTo("SUCCESS");
        String job = jenkins.get("/job/pages-pipeline/");
        assertThat(count(job, "class=\"virt-backup-point\"")).as("the trend of a Pipeline job").isEqualTo(6);
        assertThat(jenkins.get("/job/pages-pipeline/buildHistory/ajax")).contains("class=\"virt-backup-badge\"");
        assertNoViewErrorsInTheLog();
    }

    /** A list of domains with one that does not exist: the build page shows both, the failed one with its error. */
    @Test
    void aFailedDomainIsShownBesideTheCompleteOne() throws Exception {
        jenkins.createJob("pages-mixed", freestyleJob(null, FreestyleJenkinsIT.builderXml(Map.of("domains",
                "web no-such", "uri", uri, "backupDir", backups.toString(), "unstableOnFailure", "true"))));
        Build build = jenkins.waitForBuild("pages-mixed", jenkins.build("pages-mixed"));
        assertThat(build.result()).as(build.console()).isEqualTo("UNSTABLE");

        String page = jenkins.get("/job/pages-mixed/1/");
        assertThat(page).containsPattern(record("web", "complete")).containsPattern(record("no-such", "failed"));
        assertThat(cell(page, "virt-backup-exit")).isEqualTo("3");
        assertThat(cell(page, "virt-backup-error")).contains("domain 'no-such' not found");
        assertNoViewErrorsInTheLog();
    }

    /** One domain that fails: the build fails, and its page says which domain, with the engine's exit code and error. */
    @Test
    void aFailedSingleBackupIsShownWithItsError() throws Exception {
        jenkins.createJob("pages-failed", pipelineJob("node { virtBackup domain: 'no-such', uri: '" + uri
                + "', backupDir: '" + backups + "' }"));
        Build build = jenkins.waitForBuild("pages-failed", jenkins.build("pages-failed"));
        assertThat(build.result()).as(build.console()).isEqualTo("FAILURE");

        String page = jenkins.get("/job/pages-failed/1/");
        assertThat(page).containsPattern(record("no-such", "failed"));
        assertThat(cell(page, "virt-backup-exit")).isEqualTo("3");
        assertThat(cell(page, "virt-backup-error")).contains("domain 'no-such' not found");
        assertNoViewErrorsInTheLog();
    }

    private static void assertSummaryOfWeb(String page, String mode) {
        assertThat(page).contains("class=\"virt-backup-summary\"");
        assertThat(cell(page, "virt-backup-domain")).isEqualTo("web");
        assertThat(cell(page, "virt-backup-result")).isEqualTo("complete");
        assertThat(cell(page, "virt-backup-mode")).isEqualTo(mode);
        assertThat(cell(page, "virt-backup-level")).isEqualTo("full");
        assertThat(cell(page, "virt-backup-image-size")).isEqualTo("8.0 MiB");
        assertThat(cell(page, "virt-backup-image-data")).as("the disk's data, not its size").isEqualTo("2.0 MiB");
        assertThat(cell(page, "virt-backup-downtime")).matches("\\d+(\\.\\d)? m?s");
        assertThat(cell(page, "virt-backup-throughput")).endsWith("/s");
        assertThat(page).containsPattern("<code class=\"virt-backup-dir\">" + Pattern.quote(backups.toString())
                + "/web/\\d{8}T\\d{6}Z(-\\d+)?</code>");
    }

    /** The archived log and manifest answer with what the backup holds. */
    private static void assertLinksAnswer(String page) throws Exception {
        String log = jenkins.get(path(page, LOG_LINK));
        assertThat(log).contains("backup of domain 'web' complete");
        String manifest = jenkins.get(path(page, MANIFEST_LINK));
        assertThat(manifest).contains("\"tool\": \"virt-backup\"", "\"dataBytes\"");
    }

    private static Pattern link(String cssClass) {
        return Pattern.compile("<a(?=[^>]*class=\"" + cssClass + "\")[^>]*href=\"([^\"]+)\"");
    }

    /** The table of one domain's record, with its result. */
    private static Pattern record(String domain, String result) {
        return Pattern.compile("<table(?=[^>]*class=\"virt-backup-record\")(?=[^>]*data-domain=\"" + domain
                + "\")(?=[^>]*data-result=\"" + result + "\")");
    }

    /** A link's path, relative to the controller's URL. */
    private static String path(String page, Pattern link) {
        Matcher matcher = link.matcher(page);
        assertThat(matcher.find()).as("%s in the page", link).isTrue();
        String href = matcher.group(1).replace("&amp;", "&");
        assertThat(href).startsWith("/");
        return href;
    }

    /** The text of the first element with {@code cssClass}. */
    private static String cell(String page, String cssClass) {
        Matcher matcher = Pattern.compile("class=\"" + cssClass + "\"[^>]*>([^<]*)<").matcher(page);
        assertThat(matcher.find()).as("an element of class %s", cssClass).isTrue();
        return matcher.group(1).trim().replace("&#39;", "'").replace("&apos;", "'");
    }

    private static int count(String text, String part) {
        int count = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            count++;
        }
        return count;
    }

    private static void assertNoViewErrorsInTheLog() throws Exception {
        List<String> errors = new ArrayList<>();
        for (String line : Files.readAllLines(jenkins.home().resolve("jenkins.log"))) {
            String lower = line.toLowerCase(java.util.Locale.ROOT);
            if (lower.contains("jelly") || lower.contains("jexl") || lower.contains("virtbackup")
                    && (lower.contains("exception") || lower.contains("severe"))) {
                errors.add(line);
            }
        }
        assertThat(errors).as("Jelly, JEXL or plugin errors in the controller's log").isEmpty();
    }
}
