package io.jenkins.plugins.virtbackup.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.HostRequirement;
import io.jenkins.plugins.virtbackup.testing.TestEngines;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A disk on a block device (a loop device over a real image) is copied by content. */
class BlockDeviceBackupTest {
    @TempDir
    Path dir;

    @Test
    void aBlockDeviceIsCopiedByContent() throws Exception {
        HostRequirement.requireRoot("a loop device");
        TestDriverNode node = new TestDriverNode(dir.resolve("images"));
        Path image = node.rawImage("lv.raw", 16 << 20, 3 << 20, 9);
        Path device = Path.of(Host.run("losetup", "--find", "--show", image.toString()).strip());
        try {
            String uri = node.domain("db", RunState.RUNNING, true, TestDriverNode.blockDisk("vda", device)).write();
            Manifest manifest;
            try (LibvirtHypervisor hypervisor = LibvirtHypervisor.connect(uri, report -> { });
                 BackupLog log = new BackupLog(new PrintStream(new ByteArrayOutputStream(), true,
                         StandardCharsets.UTF_8), false, SyslogSink.NONE)) {
                manifest = TestEngines.of(hypervisor, log, new StateDirectory(dir.resolve("state"))).run(TestDriverBed.request("db", BackupMode.SUSPEND,
                        dir.resolve("backups"))).manifest();
                assertThat(hypervisor.lookup("db").state()).isEqualTo(DomainState.RUNNING);
            }

            assertThat(manifest.files()).extracting(f -> f.name()).contains("vda.raw");
            Path copy = dir.resolve("backups/db").toFile().listFiles()[0].toPath().resolve("vda.raw");
            assertThat(Trees.sha256(copy)).isEqualTo(Trees.sha256(image));
            assertThat(Host.allocatedBytes(copy)).as("zeros of the device became holes").isLessThan(8 << 20);
        } finally {
            Host.run("losetup", "-d", device.toString());
        }
    }
}
