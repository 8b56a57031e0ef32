package io.jenkins.plugins.virtbackup.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.BackupRequest;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.Hypervisor;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.lvm.FakeLvm;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.recovery.RecoveryJournal;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import io.jenkins.plugins.virtbackup.testing.TestEngines;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole snapshot-dm run through the engine on libvirt's test driver (a real save and restore),
 * with LVM played by files ({@link FakeLvm}; the real commands run in the device-mapper guest).
 * What the domain writes after it runs again is not in the backup.
 */
class SnapshotDmOnTestDriverTest {
    private static final long MIB = 1 << 20;
    @TempDir
    Path dir;

    @Test
    void copiesFromTheSnapshotsWithTheRamAndLeavesNothing() throws Exception {
        FakeLvm lvm = new FakeLvm(dir.resolve("host"), () -> "?");
        Path mount = lvm.fileSystem("vbt", "images", "ext4");
        Path image = new TestDriverNode(mount).rawImage("web.raw", 8 * MIB, (int) MIB, 5);
        Path blk = lvm.volume("vbt", "blk", 4 * MIB, "linear");
        Files.write(blk, new byte[] {7, 7, 7}, StandardOpenOption.WRITE);
        String imageBefore = Trees.sha256(image);
        String blkBefore = Trees.sha256(blk);
        lvm.afterMount = () -> overwrite(image, blk);
        String uri = new TestDriverNode(dir.resolve("node")).domain("web", RunState.RUNNING, true,
                TestDriverNode.fileDisk("vda", image, "raw"), TestDriverNode.blockDisk("vdb", blk)).write();

        Manifest manifest;
        try (LibvirtHypervisor hypervisor = LibvirtHypervisor.connect(uri, report -> { });
             BackupLog log = quietLog()) {
            StateDirectory state = new StateDirectory(dir.resolve("state"));
            manifest = TestEngines.of(hypervisor, log, state, lvm).run(request(0)).manifest();
            assertThat(hypervisor.lookup("web").state()).isEqualTo(DomainState.RUNNING);
            assertThat(RecoveryJournal.of(state, uri, "web").isEmpty()).isTrue();
        }

        assertThat(manifest.toJson()).contains("\"mode\": \"snapshot-dm\"").contains("\"downtimeMeasuredBy\": \"host\"");
        assertThat(manifest.files()).extracting(f -> f.name()).contains("vda.raw", "vdb.raw", "memory.state");
        Path backup = Files.list(dir.resolve("backups/web")).findFirst().orElseThrow();
        assertThat(Trees.sha256(backup.resolve("vda.raw"))).as("the image as it was at the snapshot")
                .isEqualTo(imageBefore).isNotEqualTo(Trees.sha256(image));
        assertThat(Trees.sha256(backup.resolve("vdb.raw"))).isEqualTo(blkBefore).isNotEqualTo(Trees.sha256(blk));
        assertThat(manifest.toJson()).as("the manifest names the domain's images, not the snapshots")
                .contains(image.toString()).doesNotContain("vbsnap");
        assertThat(lvm.snapshots()).isEmpty();
        assertThat(lvm.mounts()).isEmpty();
    }

    @Test
    void aDiskOffLvmIsAUsageErrorBeforeAnythingHappens() throws Exception {
        FakeLvm lvm = new FakeLvm(dir.resolve("host"), () -> "?");
        Path image = new TestDriverNode(dir.resolve("images")).rawImage("web.raw", 8 * MIB, (int) MIB, 5);

        assertRefusedBeforeAnything(lvm, image, hypervisor -> hypervisor, "snapshot-dm cannot back up disk vda",
                "which is not an LVM logical volume");
        assertThat(lvm.calls).noneMatch(c -> c.startsWith("lvcreate"));
    }

    /**
     * With the hypervisor on another machine, this machine's LVM is not the one under the domain's
     * disks: refused before anything, even with the images' paths on LVM here.
     */
    @Test
    void aHypervisorOnAnotherMachineIsAUsageErrorBeforeAnythingHappens() throws Exception {
        FakeLvm lvm = new FakeLvm(dir.resolve("host"), () -> "?");
        Path image = new TestDriverNode(lvm.fileSystem("vbt", "images", "ext4")).rawImage("web.raw", 8 * MIB,
                (int) MIB, 5);

        assertRefusedBeforeAnything(lvm, image, hypervisor -> reachedAs("qemu+ssh://root@198.51.100.7/system",
                hypervisor), "the hypervisor is on 198.51.100.7", "run virt-backup on 198.51.100.7 itself");
        assertThat(lvm.calls).isEmpty();
    }

    /** A user LVM refuses (a Jenkins agent's own): refused before anything, not after the save. */
    @Test
    void withoutRootItIsAUsageErrorBeforeAnythingHappens() throws Exception {
        FakeLvm lvm = new FakeLvm(dir.resolve("host"), () -> "?");
        lvm.unprivileged = "virt-backup runs as user id 1000, and lvcreate, lvremove and mount need root";
        Path image = new TestDriverNode(lvm.fileSystem("vbt", "images", "ext4")).rawImage("web.raw", 8 * MIB,
                (int) MIB, 5);

        assertRefusedBeforeAnything(lvm, image, hypervisor -> hypervisor, "snapshot-dm needs root",
                "user id 1000");
        assertThat(lvm.calls).isEmpty();
    }

    private void assertRefusedBeforeAnything(FakeLvm lvm, Path image, UnaryOperator<Hypervisor> reached,
                                             String... message) throws Exception {
        String uri = new TestDriverNode(dir.resolve("node")).domain("web", RunState.RUNNING, true,
                TestDriverNode.fileDisk("vda", image, "raw")).write();
        try (LibvirtHypervisor hypervisor = LibvirtHypervisor.connect(uri, report -> { });
             BackupLog log = quietLog()) {
            assertThatThrownBy(() -> TestEngines.of(reached.apply(hypervisor), log,
                    new StateDirectory(dir.resolve("state")), lvm).run(request(0)))
                    .isInstanceOfSatisfying(BackupException.class, e -> {
                        assertThat(e.status()).isEqualTo(ExitStatus.USAGE);
                        assertThat(e.getMessage()).contains(message);
                    });
            assertThat(hypervisor.lookup("web").state()).isEqualTo(DomainState.RUNNING);
        }
        assertThat(dir.resolve("backups")).doesNotExist();
    }

    /** {@code hypervisor} as if connected through {@code uri}: only what it says of its URI differs. */
    private static Hypervisor reachedAs(String uri, Hypervisor hypervisor) {
        return (Hypervisor) Proxy.newProxyInstance(Hypervisor.class.getClassLoader(), new Class<?>[] {Hypervisor.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("uri")) {
                        return uri;
                    }
                    try {
                        return method.invoke(hypervisor, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static void overwrite(Path image, Path blk) {
        try {
            Files.write(image, new byte[4096], StandardOpenOption.WRITE);
            Files.write(blk, new byte[] {1, 2, 3}, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private BackupRequest request(long snapshotBytes) {
        return new BackupRequest("web", List.of(), BackupMode.SNAPSHOT_DM, dir.resolve("backups"),
                Duration.ofSeconds(5), false, false).withSnapshotSize(snapshotBytes);
    }

    private static BackupLog quietLog() {
        return new BackupLog(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false,
                SyslogSink.NONE);
    }
}
