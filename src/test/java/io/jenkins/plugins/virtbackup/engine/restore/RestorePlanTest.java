package io.jenkins.plugins.virtbackup.engine.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Where each disk of a backup goes, for the original and for a copy. */
class RestorePlanTest {
    private static final Path BACKUP = Path.of("/srv/backup/web/20261203T020000Z");
    private static final Disk ROOT = new Disk("vda", "disk", "file", "/var/lib/libvirt/images/web.qcow2", "qcow2",
            false, false);
    private static final Disk DATA = new Disk("vdb", "disk", "block", "/dev/vg0/web-data", "raw", false, false);
    private static final Disk LOGS = new Disk("vdc", "disk", "network", null, "raw", false, false);
    private static final Disk ISO = new Disk("sda", "cdrom", "file", "/srv/iso/debian.iso", "raw", true, false);
    private static final Disk VMDK = new Disk("vdd", "disk", "file", "/var/lib/libvirt/images/web.vmdk", "vmdk",
            false, false);

    private static BackedUpFile file(String name, String target, String format) {
        return new BackedUpFile(name, BackedUpFile.DISK, 1 << 20, new BackedUpFile.WholeFile("0".repeat(64)), target,
                "/somewhere", format, null);
    }

    private static BackupToRestore backupOf(BackedUpFile... disks) {
        return new BackupToRestore(BACKUP, null, "<domain/>", List.of(disks), null);
    }

    @Test
    void theOriginalsDisksGoBackToTheirPathsInTheirOwnFormat() throws BackupException {
        RestorePlan plan = RestorePlan.of(backupOf(file("vda.qcow2", "vda", "qcow2")), List.of(ROOT, LOGS, ISO), "web",
                null, false);

        assertThat(plan.disks()).containsExactly(new RestorePlan.PlannedDisk("vda", BACKUP.resolve("vda.qcow2"), "qcow2",
                Path.of("/var/lib/libvirt/images/web.qcow2"), "qcow2"));
        assertThat(plan.notInBackup()).as("writable disks only: the cdrom is no concern")
                .containsExactly(Map.entry("vdc", "(no source)"));
        assertThat(plan.firstDiskFolder()).isEqualTo(Path.of("/var/lib/libvirt/images"));
    }

    @Test
    void aCopyIsNamedAfterItselfBesideTheOriginalsOrUnderTheDiskFolder() throws BackupException {
        BackupToRestore backup = backupOf(file("vda.qcow2", "vda", "qcow2"));

        assertThat(RestorePlan.of(backup, List.of(ROOT), "web-copy", null, true).disks().get(0).destination())
                .isEqualTo(Path.of("/var/lib/libvirt/images/web-copy-vda.qcow2"));
        assertThat(RestorePlan.of(backup, List.of(ROOT), "web-copy", Path.of("/srv/restore"), true).disks().get(0)
                .destination()).isEqualTo(Path.of("/srv/restore/web-copy-vda.qcow2"));
    }

    @Test
    void aBlockDeviceIsWrittenOnlyAsAFileUnderTheDiskFolder() throws BackupException {
        BackupToRestore backup = backupOf(file("vdb.raw", "vdb", "raw"));

        for (boolean copy : new boolean[] {false, true}) {
            assertThatThrownBy(() -> RestorePlan.of(backup, List.of(DATA), "web", null, copy))
                    .isInstanceOfSatisfying(BackupException.class, e -> {
                        assertThat(e.status()).isEqualTo(ExitStatus.USAGE);
                        assertThat(e.getMessage()).contains("/dev/vg0/web-data", "--disk-dir");
                    });
        }
        assertThat(RestorePlan.of(backup, List.of(DATA), "web", Path.of("/srv/restore"), false).disks().get(0)
                .destination()).isEqualTo(Path.of("/srv/restore/web-vdb.raw"));
    }

    @Test
    void aLiveBackupsQcow2OfARawDiskBecomesRawAgainAndOtherFormatsBecomeQcow2() throws BackupException {
        Disk rawRoot = new Disk("vda", "disk", "file", "/var/lib/libvirt/images/web.raw", "raw", false, false);
        RestorePlan plan = RestorePlan.of(backupOf(file("vda.qcow2", "vda", "qcow2"), file("vdd.qcow2", "vdd", "qcow2")),
                List.of(rawRoot, VMDK), "web", Path.of("/srv/restore"), false);

        assertThat(plan.disks()).extracting(RestorePlan.PlannedDisk::imageFormat, RestorePlan.PlannedDisk::format)
                .containsExactly(tuple("qcow2", "raw"),
                        tuple("qcow2", "qcow2"));
    }

    @Test
    void aDiskTheDefinitionDoesNotHaveIsAnInconsistentBackup() {
        assertThatThrownBy(() -> RestorePlan.of(backupOf(file("vdz.raw", "vdz", "raw")), List.of(ROOT), "web", null,
                false)).isInstanceOfSatisfying(BackupException.class,
                        e -> assertThat(e.status()).isEqualTo(ExitStatus.VERIFY_FAILED));
    }
}
