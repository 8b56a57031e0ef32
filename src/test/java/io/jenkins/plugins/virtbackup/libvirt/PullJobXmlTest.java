package io.jenkins.plugins.virtbackup.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.engine.PullBackupRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The job and checkpoint XML a pull backup sends libvirt, and the running job's XML read back. */
class PullJobXmlTest {
    private static final List<String> DOMAIN_DISKS = List.of("vda", "vdb", "hdc");

    @Test
    void aLocalIncOverAUnixSocketWithARawDiskExportedWhole() {
        PullBackupRequest request = new PullBackupRequest(List.of("vda", "vdb"), Path.of("/state/scratch/k"),
                "virt-backup-A", "virt-backup-B", Set.of("vdb"));

        assertThat(PullJobXml.backup(request, DOMAIN_DISKS, "qemu:///system")).isEqualTo(
                "<domainbackup mode='pull'><incremental>virt-backup-A</incremental>"
                + "<server transport='unix' socket='/state/scratch/k/nbd.sock'/><disks>"
                + "<disk name='vda' backup='yes' type='file'><scratch file='/state/scratch/k/vda.scratch'/></disk>"
                + "<disk name='vdb' backup='yes' type='file' backupmode='full'>"
                + "<scratch file='/state/scratch/k/vdb.scratch'/></disk>"
                + "<disk name='hdc' backup='no'/></disks></domainbackup>");
        assertThat(PullJobXml.checkpoint(request, DOMAIN_DISKS))
                .startsWith("<domaincheckpoint><name>virt-backup-B</name><description>taken by virt-backup")
                .endsWith("<disks><disk name='vda' checkpoint='bitmap'/><disk name='vdb' checkpoint='no'/>"
                        + "<disk name='hdc' checkpoint='no'/></disks></domaincheckpoint>");
    }

    @Test
    void aRemoteFullServesOverTcpOnTheHypervisorsHostAndLetsItPlaceTheScratchFiles() {
        PullBackupRequest request = new PullBackupRequest(List.of("vda"), null, null, "virt-backup-C", Set.of());

        assertThat(PullJobXml.backup(request, DOMAIN_DISKS, "qemu+ssh://root@kvm7.example/system")).isEqualTo(
                "<domainbackup mode='pull'><server transport='tcp' name='kvm7.example'/><disks>"
                + "<disk name='vda' backup='yes' type='file'></disk><disk name='vdb' backup='no'/>"
                + "<disk name='hdc' backup='no'/></disks></domainbackup>");
    }

    @Test
    void noCheckpointWhenNoDiskKeepsABitmap() {
        PullBackupRequest request = new PullBackupRequest(List.of("vdb"), Path.of("/s"), null, null, Set.of("vdb"));

        assertThat(PullJobXml.checkpoint(request, DOMAIN_DISKS)).isNull();
        assertThat(PullJobXml.backup(request, DOMAIN_DISKS, "qemu:///system"))
                .as("a full exports every disk whole anyway").doesNotContain("backupmode");
    }

    @Test
    void namesAreEscaped() {
        PullBackupRequest request = new PullBackupRequest(List.of("vda"), Path.of("/s/it's"), "a<b", "c&d", Set.of());

        String xml = PullJobXml.backup(request, List.of("vda"), "qemu:///system");
        assertThat(xml).contains("<incremental>a&lt;b</incremental>").contains("socket='/s/it&apos;s/nbd.sock'");
        assertThat(PullJobXml.checkpoint(request, List.of("vda"))).contains("<name>c&amp;d</name>");
    }

    @Test
    void theRunningJobSaysWhereEachDiskIsServedAndWithWhichBitmap() {
        PullJobXml.Served served = PullJobXml.served("<domainbackup mode='pull'><incremental>A</incremental>"
                + "<server transport='tcp' name='kvm7' port='10809'/><disks>"
                + "<disk name='vda' backup='yes' type='file' backupmode='incremental' incremental='A' "
                + "exportname='vda' exportbitmap='backup-vda'/>"
                + "<disk name='vdb' backup='yes' type='file' backupmode='full' exportname='vdb'/>"
                + "<disk name='hdc' backup='no'/></disks></domainbackup>");

        assertThat(served.host()).isEqualTo("kvm7");
        assertThat(served.port()).isEqualTo(10809);
        assertThat(served.socket()).isNull();
        assertThat(served.exports()).containsOnlyKeys("vda", "vdb");
        assertThat(served.exports().get("vda")).isEqualTo(new PullJobXml.Export("vda", "backup-vda"));
        assertThat(served.exports().get("vdb")).isEqualTo(new PullJobXml.Export("vdb", null));
    }
}
