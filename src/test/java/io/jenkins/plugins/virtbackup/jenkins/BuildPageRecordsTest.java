package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import io.jenkins.plugins.virtbackup.engine.BackupRequest;
import io.jenkins.plugins.virtbackup.engine.CompletedBackup;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import io.jenkins.plugins.virtbackup.libvirt.LibvirtHypervisor;
import io.jenkins.plugins.virtbackup.testing.TestEngines;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the build page and the job page show, from real backups: libvirt's test driver with real
 * image files, backed up by the engine, the manifests read back as the plugin reads them.
 */
class BuildPageRecordsTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    /** {@code web}: a 64 MiB raw disk holding 2 MiB of data twice, and a 32 MiB qcow2 disk holding 3 MiB. */
    private CompletedBackup backUp(String domain, boolean verify) throws Exception {
        TestDriverNode node = new TestDriverNode(dir.resolve("images"));
        String uri = node.domain(domain, RunState.RUNNING, true,
                TestDriverNode.fileDisk("vda", node.rawImage("root.raw", 64 * MIB, (int) (2 * MIB), 5), "raw"),
                TestDriverNode.fileDisk("vdb", node.qcow2Image("data.qcow2", 32 * MIB, 3), "qcow2")).write();
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (LibvirtHypervisor hypervisor = LibvirtHypervisor.connect(uri, report -> { });
             BackupLog log = new BackupLog(new PrintStream(console, true, StandardCharsets.UTF_8), false,
                     (severity, message) -> { })) {
            return TestEngines.of(hypervisor, log, new StateDirectory(dir.resolve("state"))).run(new BackupRequest(
                    domain, List.of(), BackupMode.SUSPEND, dir.resolve("backups"), Duration.ofSeconds(5), false,
                    false, null, verify));
        }
    }

    private static BackupRecord record(CompletedBackup backup) throws Exception {
        Manifest manifest = Manifest.read(backup.directory());
        String stamp = backup.directory().getFileName().toString();
        return BackupRecord.complete(manifest, backup.directory().toString(),
                BackupRunner.artifacts(manifest.domainName(), stamp));
    }

    @Test
    void aCompleteBackupShowsWhatItsManifestSays() throws Exception {
        CompletedBackup backup = backUp("web", false);
        BackupRecord record = record(backup);

        assertThat(record.getDomain()).isEqualTo("web");
        assertThat(record.isComplete()).isTrue();
        assertThat(record.getResult()).isEqualTo("complete");
        assertThat(record.getMode()).isEqualTo("suspend");
        assertThat(record.getLevel()).isEqualTo("full");
        assertThat(record.getBackupDir()).isEqualTo(backup.directory().toString());
        // The raw disk's data is its two 2 MiB runs; the qcow2 file's is its 3 MiB and its metadata.
        assertThat(record.getImages()).extracting(ImageRecord::getTarget, ImageRecord::getFile,
                ImageRecord::getFormat, ImageRecord::getFileSize, ImageRecord::getDataMoved).containsExactly(
                tuple("vda", "vda.raw", "raw", "64.0 MiB", "4.0 MiB"),
                tuple("vdb", "vdb.qcow2", "qcow2", Figures.bytes(Files.size(backup.directory().resolve("vdb.qcow2"))),
                        Figures.bytes(backup.manifest().files().get(2).dataBytes())));
        assertThat(backup.manifest().files().get(2).dataBytes()).isBetween(3 * MIB, 4 * MIB);
        long moved = backup.manifest().dataBytes();
        assertThat(moved).as("disks, definition and RAM").isGreaterThan(7 * MIB);
        assertThat(record.getDataMoved()).isEqualTo(Figures.bytes(moved));
        long millis = Duration.between(backup.manifest().start(), backup.manifest().end()).toMillis();
        assertThat(record.getDuration()).isEqualTo(Figures.duration(millis));
        assertThat(record.getThroughput()).isEqualTo(Figures.throughput(moved, millis));
        assertThat(record.getDowntime()).isEqualTo(Figures.duration(backup.manifest().downtimeMillis()));
        assertThat(record.getVerified()).isEqualTo("no");
        assertThat(record.getLogHref()).isEqualTo("virt-backup/web/" + backup.directory().getFileName()
                + "/virt-backup.log");
        assertThat(record.getManifestHref()).endsWith("/manifest.json");
        assertThat(record.getImagesSize()).isEqualTo(Figures.bytes(64 * MIB
                + Files.size(backup.directory().resolve("vdb.qcow2"))));
    }

    @Test
    void aVerifiedBackupSaysSoAndAnOddNameIsEscapedInItsLinks() throws Exception {
        BackupRecord record = record(backUp("odd name #1", true));

        assertThat(record.getVerified()).isEqualTo("yes, every file read back");
        assertThat(record.getLogHref()).startsWith("virt-backup/odd%20name%20%231/").endsWith("/virt-backup.log");
    }

    /** A manifest written before the data moved and the read back were recorded: unknown, never zero. */
    @Test
    void anOlderManifestShowsNotRecorded() throws Exception {
        CompletedBackup backup = backUp("web", false);
        String json = Files.readString(backup.directory().resolve(Manifest.FILE_NAME))
                .replaceAll(",\\s*\"dataBytes\": \\d+", "").replaceAll("\\s*\"verified\": false,", "");
        BackupRecord record = BackupRecord.complete(Manifest.parse(json), backup.directory().toString(), Map.of());

        assertThat(record.getDataMoved()).isEqualTo("not recorded");
        assertThat(record.getThroughput()).isEqualTo("not recorded");
        assertThat(record.getVerified()).isEqualTo("not recorded");
        assertThat(record.getImages()).extracting(ImageRecord::getDataMoved).containsOnly("not recorded");
        assertThat(record.getLogHref()).isNull();
        assertThat(TrendSample.of(3, List.of(record)).dataBytes()).isEqualTo(-1);
    }

    @Test
    void aFailedDomainShowsItsExitCodeAndError() {
        BackupRecord failed = BackupRecord.failed("paused", 1, "domain 'paused' is paused and cannot shut down", 12);

        assertThat(failed.isComplete()).isFalse();
        assertThat(failed.getResult()).isEqualTo("failed");
        assertThat(failed.getExitCode()).isEqualTo(1);
        assertThat(failed.getError()).contains("cannot shut down");
        assertThat(failed.getLevel()).isNull();
        assertThat(failed.getImages()).isEmpty();
    }

    /** One build's point: data and duration summed over its backups, the longest downtime, failures left out. */
    @Test
    void aBuildsSampleAddsItsBackupsUp() throws Exception {
        CompletedBackup web = backUp("web", false);
        BackupRecord record = record(web);
        BackupRecord failed = BackupRecord.failed("paused", 1, "no", 5000);

        TrendSample sample = TrendSample.of(7, List.of(record, failed, record));

        long millis = Duration.between(web.manifest().start(), web.manifest().end()).toMillis();
        assertThat(sample).isEqualTo(new TrendSample(7, 2 * web.manifest().dataBytes(), 2 * millis,
                web.manifest().downtimeMillis()));
    }

    @Test
    void theBadgeNamesEachLevelOnceAndNothingWhenNoneCompleted() throws Exception {
        BackupBuildAction action = new BackupBuildAction();
        assertThat(action.getBadgeText()).isNull();
        action.add(BackupRecord.failed("paused", 1, "no", 5));
        assertThat(action.getBadgeText()).isNull();
        BackupRecord full = record(backUp("web", false));
        action.add(full);
        action.add(full);
        assertThat(action.getBadgeText()).isEqualTo("full");
        assertThat(action.getBadgeTooltip()).isEqualTo("virt-backup: 2 of 3 backup(s) complete");
        assertThat(action.getRecords()).hasSize(3);
        assertThat(action.getProjectActions()).as("not attached to a build").isEmpty();
    }

    @Test
    void figuresReadAsPeopleSayThem() {
        assertThat(Figures.duration(412)).isEqualTo("412 ms");
        assertThat(Figures.duration(7_250)).isEqualTo("7.3 s");
        assertThat(Figures.duration(125_000)).isEqualTo("2 min 05 s");
        assertThat(Figures.duration(3_725_000)).isEqualTo("1 h 02 min");
        assertThat(Figures.duration(-1)).isEqualTo("not recorded");
        assertThat(Figures.bytes(3 * MIB)).isEqualTo("3.0 MiB");
        assertThat(Figures.throughput(10 * MIB, 2_000)).isEqualTo("5.0 MiB/s");
        assertThat(Figures.throughput(10 * MIB, 0)).isEqualTo("not recorded");
    }
}
