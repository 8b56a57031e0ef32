package io.jenkins.plugins.virtbackup.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

public class DiskSelectionTest {
    private static final Disk VDA = new Disk("vda", "disk", "file", "/images/web.qcow2", "qcow2", false, false);
    private static final Disk VDB = new Disk("vdb", "disk", "block", "/dev/vg/web-data", "raw", false, false);
    private static final Disk CDROM = new Disk("hdc", "cdrom", "file", "/iso/debian.iso", "raw", true, false);
    private static final Disk NET = new Disk("vdc", "disk", "network", null, "raw", false, false);
    private static final Disk SHARED = new Disk("vdd", "disk", "file", "/images/shared.raw", "raw", false, true);
    private static final List<Disk> ALL = List.of(VDA, VDB, CDROM, NET, SHARED);

    @Test
    void withoutNamesCopiesEveryCopyableDiskAndSaysWhyTheOthersAreSkipped() throws BackupException {
        DiskSelection selection = DiskSelection.choose("web", ALL, List.of());

        assertThat(selection.toCopy()).containsExactly(VDA, VDB);
        assertThat(selection.skipped()).containsOnlyKeys("hdc", "vdc", "vdd");
        assertThat(selection.skipped().get("hdc")).contains("cdrom");
        assertThat(selection.skipped().get("vdc")).contains("network");
        assertThat(selection.skipped().get("vdd")).contains("shareable");
    }

    @Test
    void namesDisksByTargetOrBySourcePath() throws BackupException {
        DiskSelection selection = DiskSelection.choose("web", ALL, List.of("/dev/vg/../vg/web-data", "vda"));

        assertThat(selection.toCopy()).containsExactly(VDA, VDB);
        assertThat(selection.skipped()).containsEntry("hdc", "not requested");
    }

    @Test
    void anUnknownNameIsNotFoundAndListsTheDisks() {
        assertThatThrownBy(() -> DiskSelection.choose("web", ALL, List.of("vda", "sdz")))
                .isInstanceOfSatisfying(BackupException.class, e -> {
                    assertThat(e.status()).isEqualTo(ExitStatus.NOT_FOUND);
                    assertThat(e.getMessage()).contains("'sdz'").contains("vda = /images/web.qcow2");
                });
    }

    @Test
    void aRequestedDiskThatCannotBeCopiedIsAUsageError() {
        assertThatThrownBy(() -> DiskSelection.choose("web", ALL, List.of("hdc")))
                .isInstanceOfSatisfying(BackupException.class, e -> {
                    assertThat(e.status()).isEqualTo(ExitStatus.USAGE);
                    assertThat(e.getMessage()).contains("hdc").contains("cdrom");
                });
    }
}
