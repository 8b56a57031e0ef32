package io.jenkins.plugins.virtbackup.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.DomainIdentity;
import io.jenkins.plugins.virtbackup.engine.restore.DefinitionChanges;
import io.jenkins.plugins.virtbackup.engine.restore.DefinitionChanges.RestoredImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The restore's changes to a domain definition, on a definition with every device they concern. */
class DefinitionRewriteTest {
    private static final String ORIGINAL = """
            <domain type='kvm'>
              <name>web</name>
              <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
              <os><type arch='x86_64' machine='q35'>hvm</type>
                <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
                <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/var/lib/libvirt/qemu/nvram/web_VARS.fd</nvram>
              </os>
              <devices>
                <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
                  <source file='/var/lib/libvirt/images/web.qcow2'/>
                  <backingStore type='file'><format type='qcow2'/><source file='/var/lib/libvirt/images/tmpl.qcow2'/>
                    <backingStore/></backingStore>
                  <target dev='vda' bus='virtio'/></disk>
                <disk type='block' device='disk'><driver name='qemu' type='raw'/>
                  <source dev='/dev/vg0/web-data'/><target dev='vdb' bus='virtio'/></disk>
                <disk type='network' device='disk'><driver name='qemu' type='raw'/>
                  <source protocol='rbd' name='pool/web-logs'/><target dev='vdc' bus='virtio'/></disk>
                <disk type='file' device='cdrom'><source file='/srv/iso/debian.iso'/><target dev='sda' bus='sata'/>
                  <readonly/></disk>
                <interface type='bridge'><mac address='52:54:00:12:34:56'/><source bridge='br0'/>
                  <model type='virtio'/></interface>
                <hostdev mode='subsystem' type='pci'><source><address domain='0' bus='3' slot='0' function='0'/></source>
                  </hostdev>
                <filesystem type='mount'><source dir='/srv/share'/><target dir='share'/></filesystem>
                <serial type='file'><source path='/var/log/web-serial.log'/><target port='0'/></serial>
                <console type='file'><source path='/var/log/web-serial.log'/><target type='serial' port='0'/></console>
                <channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/channel/web.agent'/>
                  <target type='virtio' name='org.qemu.guest_agent.0'/></channel>
                <channel type='unix'><source mode='bind' path='/run/web-monitor.sock'/>
                  <target type='virtio' name='org.example.monitor'/></channel>
                <graphics type='vnc' port='5901' autoport='no' listen='127.0.0.1'/>
              </devices>
            </domain>
            """;

    private static final Map<String, RestoredImage> IMAGES = Map.of(
            "vda", new RestoredImage(Path.of("/srv/restore/copy-vda.qcow2"), "qcow2"),
            "vdb", new RestoredImage(Path.of("/srv/restore/copy-vdb.raw"), "raw"));

    @Test
    void disksOnlyMovesTheDisksIntoStandaloneFilesAndKeepsEverythingElse() {
        DefinitionRewrite.Result result = DefinitionRewrite.apply(ORIGINAL, DefinitionChanges.disksOnly(IMAGES));

        assertThat(result.changed()).isTrue();
        List<Disk> disks = DomainXml.disks(result.xml());
        assertThat(disks).extracting(Disk::target, Disk::type, Disk::source, Disk::format).containsExactly(
                tuple("vda", "file", "/srv/restore/copy-vda.qcow2", "qcow2"),
                tuple("vdb", "file", "/srv/restore/copy-vdb.raw", "raw"),
                tuple("vdc", "network", null, "raw"),
                tuple("sda", "file", "/srv/iso/debian.iso", "raw"));
        assertThat(result.xml()).as("no chain left to read an old template through").doesNotContain("backingStore")
                .doesNotContain("/dev/vg0/web-data")
                .contains("<name>web</name>", "6695eb01-f6a4-8304-79aa-97f2502e193f", "52:54:00:12:34:56",
                        "/var/lib/libvirt/qemu/nvram/web_VARS.fd", "br0", "/var/log/web-serial.log");
        assertThat(DomainXml.identity(result.xml()).uuid()).isEqualTo("6695eb01-f6a4-8304-79aa-97f2502e193f");
    }

    @Test
    void nothingToChangeIsReportedAsUnchanged() {
        String inPlace = DefinitionRewrite.apply(ORIGINAL, DefinitionChanges.disksOnly(IMAGES)).xml();

        DefinitionRewrite.Result again = DefinitionRewrite.apply(inPlace, DefinitionChanges.disksOnly(IMAGES));

        assertThat(again.changed()).isFalse();
    }

    @Test
    void aCopyGetsANewIdentityAndNoFileOfTheOriginals() {
        Path folder = Path.of("/srv/restore");
        DefinitionChanges copy = new DefinitionChanges("web-copy", true, false, IMAGES, Set.of("vdc"), folder, null);

        String xml = DefinitionRewrite.apply(ORIGINAL, copy).xml();

        assertThat(DomainXml.identity(xml)).isEqualTo(new DomainIdentity(
                "web-copy", null));
        assertThat(xml).doesNotContain("52:54:00:12:34:56").doesNotContain("/var/lib/libvirt/images/")
                .doesNotContain("web_VARS.fd").doesNotContain("/var/log/web-serial.log")
                .doesNotContain("/run/web-monitor.sock").doesNotContain("pool/web-logs")
                .doesNotContain("/var/lib/libvirt/qemu/channel/web.agent")
                .contains("/srv/restore/web-copy_VARS.fd", "/srv/restore/serial0.log",
                        "template=\"/usr/share/OVMF/OVMF_VARS_4M.fd\"", "<interface", "br0", "/srv/iso/debian.iso");
        assertThat(DomainXml.disks(xml)).extracting(Disk::target).containsExactly("vda", "vdb", "sda");
        assertThat(DomainXml.agentChannel(xml)).as("the agent channel stays, at a path libvirt picks")
                .isNotEqualTo(DomainXml.AgentChannel.NONE);
    }

    @Test
    void aCopyWithoutDeviceFolderLetsLibvirtMakeItsNvram() {
        DefinitionChanges copy = new DefinitionChanges("web-copy", true, false, IMAGES, Set.of(), null, null);

        String xml = DefinitionRewrite.apply(ORIGINAL, copy).xml();

        assertThat(xml).doesNotContain("web_VARS.fd").contains("<nvram template=\"/usr/share/OVMF/OVMF_VARS_4M.fd\"/>")
                .doesNotContain("6695eb01");
    }

    @Test
    void anIsolatedCloneReachesNoNetworkNoHostDeviceAndLogsItsConsole() {
        Path scratch = Path.of("/var/lib/virt-backup/restore-test/web-restore-test-1");
        DefinitionChanges clone = new DefinitionChanges("web-restore-test-1", true, true, IMAGES, Set.of("vdc"), scratch,
                scratch.resolve("console.log"));

        String xml = DefinitionRewrite.apply(ORIGINAL, clone).xml();

        assertThat(xml).doesNotContain("<interface").doesNotContain("<hostdev").doesNotContain("<filesystem")
                .doesNotContain("5901").contains("autoport=\"yes\"")
                .doesNotContain("<console").contains("<source append=\"on\" path=\"" + scratch.resolve("console.log") + "\"/>");
        assertThat(DomainXml.hasDevice(xml, "serial")).isTrue();
        assertThat(DomainXml.agentChannel(xml)).isNotEqualTo(DomainXml.AgentChannel.NONE);
    }
}
