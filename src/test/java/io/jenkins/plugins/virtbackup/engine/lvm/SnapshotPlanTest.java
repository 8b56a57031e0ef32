package io.jenkins.plugins.virtbackup.engine.lvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each image to the volume it resides on, the snapshots' sizes, and every refusal before anything changes. */
class SnapshotPlanTest {
    private static final long MIB = 1 << 20;
    @TempDir
    Path dir;
    private FakeLvm lvm;

    @BeforeEach
    void host() {
        lvm = new FakeLvm(dir, () -> "running");
    }

    @Test
    void aVolumeIsReadFromItsSnapshotDeviceAndAFileFromTheMountedSnapshot() throws Exception {
        Path blk = lvm.volume("vbt", "blk", 16 * MIB, "linear");
        Path mount = lvm.fileSystem("vbt", "images", "ext4");
        Path image = Files.write(Files.createDirectories(mount.resolve("vms")).resolve("web.raw"), new byte[512]);

        SnapshotPlan plan = plan(List.of(file("vda", image), block("vdb", blk)), 0);

        assertThat(plan.volumes()).extracting(v -> v.origin().fullName()).containsExactly("vbt/images", "vbt/blk");
        SnapshotPlan.Volume images = plan.volume("vbt/images").orElseThrow();
        assertThat(images.snapshot()).isEqualTo("images-vbsnap-1");
        assertThat(images.mountOptions()).isEqualTo("ro,noload,nodev,nosuid,noexec");
        assertThat(images.mountDir()).isEqualTo(dir.resolve("mounts/web-vbt-images-vbsnap-1"));
        assertThat(plan.readFrom(image)).isEqualTo(images.mountDir().resolve("vms/web.raw"));
        assertThat(plan.readFrom(blk)).isEqualTo(lvm.devicePath("vbt", "blk-vbsnap-1"));
        assertThat(plan.volume("vbt/blk").orElseThrow().fileSystem()).isNull();
        assertThat(lvm.calls).as("looked up only, nothing made").noneMatch(c -> c.startsWith("lvcreate"));
    }

    /** The usual libvirt layout behind a link: the copy must find the image in the snapshot, not through the link. */
    @Test
    void anImageReachedThroughASymbolicLinkIsReadAtItsRealPlaceInTheSnapshot() throws Exception {
        Path mount = lvm.fileSystem("vbt", "home", "ext4");
        Path image = Files.write(Files.createDirectories(mount.resolve("images")).resolve("web.raw"), new byte[512]);
        Path link = Files.createSymbolicLink(dir.resolve("libvirt-images"), mount.resolve("images"));

        SnapshotPlan plan = plan(List.of(file("vda", link.resolve("web.raw"))), 0);

        SnapshotPlan.Volume home = plan.volume("vbt/home").orElseThrow();
        assertThat(plan.readFrom(link.resolve("web.raw"))).isEqualTo(home.mountDir().resolve("images/web.raw"));
        assertThat(image).exists();
    }

    @Test
    void anImageThatLeadsOutOfTheMountedSnapshotIsRefused() throws Exception {
        Path mount = lvm.fileSystem("vbt", "images", "ext4");
        Path image = Files.write(mount.resolve("web.raw"), new byte[512]);
        SnapshotPlan plan = plan(List.of(file("vda", image)), 0);
        Path mountDir = plan.volume("vbt/images").orElseThrow().mountDir();
        Files.createDirectories(mountDir);
        // Made after the plan: in the snapshot, web.raw is a link back to the live image.
        Files.createSymbolicLink(mountDir.resolve("web.raw"), image);
        Path live = image.toRealPath();

        assertThatThrownBy(plan::requireInsideSnapshots).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.status()).isEqualTo(ExitStatus.BACKUP_FAILED);
            assertThat(e.getMessage()).contains("leads out of the snapshot of vbt/images to " + live);
        });
        Files.delete(mountDir.resolve("web.raw"));
        Files.copy(image, mountDir.resolve("web.raw"));
        plan.requireInsideSnapshots();
    }

    @Test
    void theFilesBelowABlockDisksTopImageAreReadFromTheirFileSystemsSnapshot() throws Exception {
        Path mount = lvm.fileSystem("vbt", "images", "ext4");
        Path template = Files.write(mount.resolve("template.qcow2"), new byte[512]);
        Path top = lvm.volume("vbt", "web", 16 * MIB, "linear");
        Disk disk = new Disk("vda", "disk", "block", top.toString(), "qcow2", false, false);
        Map<String, BackingChain> chains = Map.of("vda", new BackingChain(List.of(
                new BackingChain.Image(top, "qcow2", template.toString()), new BackingChain.Image(template, "qcow2", null))));

        SnapshotPlan plan = SnapshotPlan.of("web", List.of(disk), chains, lvm, 0, "-vbsnap-1", dir.resolve("mounts"));

        assertThat(plan.readFrom(top)).isEqualTo(lvm.devicePath("vbt", "web-vbsnap-1"));
        assertThat(plan.readFrom(template)).isEqualTo(plan.volume("vbt/images").orElseThrow().mountDir()
                .resolve("template.qcow2"));
    }

    @Test
    void aSnapshotWhoseDeviceMapperNameWouldBeTooLongIsAUsageError() throws Exception {
        Path device = lvm.volume("vbt", "a-" + "x".repeat(110), 8 * MIB, "linear");

        assertUsage(List.of(block("vda", device)), "would be longer than 127 bytes");
    }

    @Test
    void xfsIsMountedWithoutItsUuidAndWithoutLogRecovery() throws Exception {
        Path mount = lvm.fileSystem("vbt", "images", "xfs");
        Path image = Files.write(mount.resolve("web.raw"), new byte[512]);

        assertThat(plan(List.of(file("vda", image)), 0).volumes().get(0).mountOptions())
                .isEqualTo("ro,nouuid,norecovery,nodev,nosuid,noexec");
    }

    @Test
    void twoImagesOnOneVolumeTakeOneSnapshot() throws Exception {
        Path mount = lvm.fileSystem("vbt", "images", "ext4");
        Path a = Files.write(mount.resolve("a.raw"), new byte[512]);
        Path b = Files.write(mount.resolve("b.raw"), new byte[512]);

        SnapshotPlan plan = plan(List.of(file("vda", a), file("vdb", b)), 0);

        assertThat(plan.volumes()).hasSize(1);
        assertThat(plan.readFrom(b).getParent()).isEqualTo(plan.readFrom(a).getParent());
    }

    @Test
    void theDefaultSizeIsTheOriginsSizeOrAnEqualShareOfTheFreeSpaceRoundedToExtents() throws Exception {
        lvm.vgFree = 100 * MIB;
        Path small = lvm.volume("vbt", "small", 10 * MIB, "linear");
        Path large = lvm.volume("vbt", "large", 500 * MIB, "linear");

        SnapshotPlan plan = plan(List.of(block("vda", small), block("vdb", large)), 0);

        // 10 MiB rounds up to 12 (3 extents of 4 MiB); half of 100 MiB is 50, down to 48.
        assertThat(plan.volume("vbt/small").orElseThrow().bytes()).isEqualTo(12 * MIB);
        assertThat(plan.volume("vbt/large").orElseThrow().bytes()).isEqualTo(48 * MIB);
    }

    @Test
    void aGivenSizeIsRoundedUpToExtentsAndMustFitTheFreeSpace() throws Exception {
        lvm.vgFree = 100 * MIB;
        Path a = lvm.volume("vbt", "a", 500 * MIB, "linear");
        Path b = lvm.volume("vbt", "b", 500 * MIB, "linear");

        assertThat(plan(List.of(block("vda", a)), 30 * MIB).volumes().get(0).bytes()).isEqualTo(32 * MIB);
        assertThatThrownBy(() -> plan(List.of(block("vda", a), block("vdb", b)), 60 * MIB))
                .isInstanceOfSatisfying(BackupException.class, e -> {
                    assertThat(e.status()).isEqualTo(ExitStatus.USAGE);
                    assertThat(e.getMessage()).contains("volume group vbt has 100.0 MiB free")
                            .contains("need 120.0 MiB").contains("--snapshot-size");
                });
    }

    @Test
    void aGroupWithoutFreeSpaceIsAUsageError() throws Exception {
        lvm.vgFree = 0;
        Path blk = lvm.volume("vbt", "blk", 16 * MIB, "linear");

        assertUsage(List.of(block("vda", blk)), "volume group vbt has 0 B free");
    }

    @Test
    void aBlockDeviceOffLvmIsAUsageError() throws Exception {
        Path loop = Files.write(dir.resolve("loop0"), new byte[512]);

        assertUsage(List.of(block("vda", loop)), "disk vda: " + loop + " is a block device but not an LVM logical volume");
    }

    @Test
    void anImageOnAFileSystemOffLvmIsAUsageError() throws Exception {
        Path image = Files.write(dir.resolve("web.raw"), new byte[512]);

        assertUsage(List.of(file("vda", image)), "is on /dev/sda1 (mounted at " + dir + "), which is not an LVM");
    }

    @Test
    void thinVolumesAreAUsageError() throws Exception {
        Path thin = lvm.volume("vbt", "thin", 16 * MIB, "thin");

        assertUsage(List.of(block("vda", thin)), "does not snapshot thin logical volumes (vbt/thin is thin)");
    }

    @Test
    void aFileSystemThatCannotBeMountedWithoutWritingIsAUsageError() throws Exception {
        Path mount = lvm.fileSystem("vbt", "images", "btrfs");
        Path image = Files.write(mount.resolve("web.raw"), new byte[512]);

        assertUsage(List.of(file("vda", image)), "is on a btrfs file system");
    }

    @Test
    void withoutRootItIsAUsageErrorBeforeLvmIsAsked() throws Exception {
        lvm.unprivileged = "virt-backup runs as user id 1000, and lvcreate, lvremove and mount need root";

        assertThatThrownBy(() -> SnapshotPlan.requirePrivileges(lvm)).isInstanceOfSatisfying(BackupException.class,
                e -> {
                    assertThat(e.status()).isEqualTo(ExitStatus.USAGE);
                    assertThat(e.getMessage()).startsWith("snapshot-dm needs root: virt-backup runs as user id 1000")
                            .contains("on an agent that runs as root");
                });
        lvm.unprivileged = null;
        SnapshotPlan.requirePrivileges(lvm);
        assertThat(lvm.calls).isEmpty();
    }

    private void assertUsage(List<Disk> disks, String message) {
        assertThatThrownBy(() -> plan(disks, 0)).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.status()).isEqualTo(ExitStatus.USAGE);
            assertThat(e.getMessage()).contains(message);
        });
        assertThat(lvm.calls).noneMatch(c -> c.startsWith("lvcreate") || c.startsWith("mount"));
    }

    private SnapshotPlan plan(List<Disk> disks, long bytes) throws BackupException {
        Map<String, BackingChain> chains = new LinkedHashMap<>();
        for (Disk disk : disks) {
            chains.put(disk.target(), BackingChain.single(Path.of(disk.source()), disk.format()));
        }
        return SnapshotPlan.of("web", disks, chains, lvm, bytes, "-vbsnap-1", dir.resolve("mounts"));
    }

    static Disk file(String target, Path image) {
        return new Disk(target, "disk", "file", image.toString(), "raw", false, false);
    }

    static Disk block(String target, Path device) {
        return new Disk(target, "disk", "block", device.toString(), "raw", false, false);
    }
}
