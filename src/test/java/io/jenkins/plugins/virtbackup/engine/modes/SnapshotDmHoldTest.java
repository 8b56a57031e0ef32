package io.jenkins.plugins.virtbackup.engine.modes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.ScriptedHypervisor;
import io.jenkins.plugins.virtbackup.engine.ScriptedVirtualMachine;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.lvm.FakeLvm;
import io.jenkins.plugins.virtbackup.engine.lvm.SnapshotPlan;
import io.jenkins.plugins.virtbackup.engine.recovery.JournalReplay;
import io.jenkins.plugins.virtbackup.engine.recovery.RecoveryJournal;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * snapshot-dm's sequence against a recording LVM made of files: save, snapshot while the domain is
 * stopped, restore, copy from the snapshots (what the guest wrote after the restore is not in the
 * copy), remove; an overflowed snapshot, a failed snapshot, and what recovery finds in the journal.
 */
class SnapshotDmHoldTest {
    private static final long MIB = 1 << 20;
    @TempDir
    Path dir;
    private final ScriptedVirtualMachine vm = new ScriptedVirtualMachine();
    private final ScriptedHypervisor hypervisor = new ScriptedHypervisor(vm);
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private BackupLog log;
    private FakeLvm lvm;
    private RecoveryJournal journal;
    private Path image;
    private Path blk;
    private Path copies;
    private List<Disk> disks;

    @BeforeEach
    void domainWithAnImageOnAnLvAndAnLv() throws Exception {
        log = new BackupLog(new PrintStream(output, true, StandardCharsets.UTF_8), true, SyslogSink.NONE);
        lvm = new FakeLvm(dir.resolve("host"), () -> vm.state().name().toLowerCase());
        Path mount = lvm.fileSystem("vbt", "images", "ext4");
        image = Files.writeString(mount.resolve("web.raw"), "image before");
        blk = lvm.volume("vbt", "blk", 8 * MIB, "linear");
        Files.writeString(blk, "block before");
        disks = List.of(new Disk("vda", "disk", "file", image.toString(), "raw", false, false),
                new Disk("vdb", "disk", "block", blk.toString(), "raw", false, false));
        journal = RecoveryJournal.of(new StateDirectory(dir.resolve("state")), hypervisor.uri(), "web");
        copies = Files.createDirectories(dir.resolve("backup"));
    }

    @AfterEach
    void closeLog() {
        log.close();
    }

    private SnapshotDmHold hold() throws BackupException {
        Map<String, BackingChain> chains = new LinkedHashMap<>();
        for (Disk disk : disks) {
            chains.put(disk.target(), BackingChain.single(Path.of(disk.source()), "raw"));
        }
        SnapshotPlan plan = SnapshotPlan.of("web", disks, chains, lvm, 0, "-vbsnap-1", dir.resolve("state/dm-mounts"));
        SuspendHold suspend = new SuspendHold(hypervisor, vm, "web", copies.resolve("memory.state"), false, log,
                journal);
        return new SnapshotDmHold(suspend, plan, lvm, "web", log, journal);
    }

    /** Copies each disk from where the hold says, after the guest (running again) overwrote its disks. */
    private GuestHold.DiskCopy copyAfterTheGuestWrote(List<List<String>> journalDuringCopy) {
        return (disk, readFrom) -> {
            assertThat(vm.state()).as("the copy runs with the domain back").isEqualTo(DomainState.RUNNING);
            Files.writeString(Path.of(disk.source()), "written after the restore");
            journalDuringCopy.add(journal.pending().stream().map(RecoveryJournal.Undo::action).toList());
            Files.copy(readFrom.apply(Path.of(disk.source())), copies.resolve(disk.target()));
            return List.of();
        };
    }

    @Test
    void savesSnapshotsWhileStoppedRestoresThenCopiesFromTheSnapshotsAndRemovesThem() throws Exception {
        SnapshotDmHold hold = hold();
        List<List<String>> journalDuringCopy = new ArrayList<>();

        hold.hold();
        assertThat(vm.state()).isEqualTo(DomainState.RUNNING);
        assertThat(hypervisor.restored).containsExactly(copies.resolve("memory.state"));
        List<BackedUpFile> files = hold.copy(disks, copyAfterTheGuestWrote(journalDuringCopy));
        hold.putBack();

        assertThat(files).isEmpty();
        assertThat(vm.calls).containsExactly("save");
        assertThat(lvm.calls).filteredOn(c -> !c.startsWith("lvs") && !c.startsWith("findmnt")).containsExactly(
                "lvcreate -s -L " + (64 * MIB) + " -n images-vbsnap-1 vbt/images (domain shut_off)",
                "lvcreate -s -L " + (8 * MIB) + " -n blk-vbsnap-1 vbt/blk (domain shut_off)",
                "mount -t ext4 -o ro,noload,nodev,nosuid,noexec dev/vbt/images-vbsnap-1",
                "umount web-vbt-images-vbsnap-1",
                "lvremove vbt/images-vbsnap-1",
                "lvremove vbt/blk-vbsnap-1");
        assertThat(Files.readString(copies.resolve("vda"))).isEqualTo("image before");
        assertThat(Files.readString(copies.resolve("vdb"))).startsWith("block before");
        assertThat(hold.downtime()).hasValueSatisfying(d -> assertThat(d.measuredBy()).isEqualTo(Downtime.HOST));
        assertThat(journalDuringCopy.get(0)).containsExactly(RecoveryJournal.Undo.REMOVE_SNAPSHOT,
                RecoveryJournal.Undo.REMOVE_SNAPSHOT, RecoveryJournal.Undo.UNMOUNT);
        assertThat(journal.pending()).isEmpty();
        assertThat(lvm.snapshots()).isEmpty();
        assertThat(lvm.mounts()).isEmpty();
        assertThat(dir.resolve("state/dm-mounts/web-vbt-images-vbsnap-1")).doesNotExist();
    }

    @Test
    void anOverflowedSnapshotFailsTheBackupWithTheDomainRunningAndTheSnapshotsGone() throws Exception {
        SnapshotDmHold hold = hold();
        hold.hold();

        assertThatThrownBy(() -> hold.copy(disks, (disk, readFrom) -> {
            lvm.overflow("vbt/blk-vbsnap-1");
            return List.of();
        })).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.status()).isEqualTo(ExitStatus.BACKUP_FAILED);
            assertThat(e.getMessage()).contains("the snapshot of vbt/blk overflowed before the copy was complete")
                    .contains("8.0 MiB").contains("the domain runs on").contains("--snapshot-size");
        });

        assertThat(vm.state()).isEqualTo(DomainState.RUNNING);
        assertThat(lvm.snapshots()).isEmpty();
        assertThat(journal.pending()).isEmpty();
    }

    @Test
    void aFailedSnapshotRestoresTheDomainAndLeavesNoSnapshot() throws Exception {
        lvm.failCreate = new IOException("Insufficient free space: 2048 extents needed, but only 10 available");
        SnapshotDmHold hold = hold();

        assertThatThrownBy(hold::hold).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.status()).isEqualTo(ExitStatus.BACKUP_FAILED);
            assertThat(e.getMessage()).contains("cannot snapshot logical volume vbt/images of domain 'web'")
                    .contains("Insufficient free space");
        });

        assertThat(vm.state()).isEqualTo(DomainState.RUNNING);
        assertThat(hypervisor.restored).hasSize(1);
        assertThat(lvm.snapshots()).isEmpty();
        assertThat(journal.pending()).isEmpty();
    }

    /** Another run's snapshot of the same volume under the name this one wanted: never removed. */
    @Test
    void aSnapshotNameTakenAlreadyFailsTheRunAndLeavesThatVolumeAlone() throws Exception {
        SnapshotDmHold hold = hold();
        Path taken = lvm.volume("vbt", "blk-vbsnap-1", 8 * MIB, "linear");

        assertThatThrownBy(hold::hold).isInstanceOfSatisfying(BackupException.class, e -> assertThat(e.getMessage())
                .contains("cannot snapshot logical volume vbt/blk").contains("already exists"));

        assertThat(taken).exists();
        assertThat(lvm.calls).noneMatch(c -> c.equals("lvremove vbt/blk-vbsnap-1"))
                .contains("lvremove vbt/images-vbsnap-1");
        assertThat(vm.state()).isEqualTo(DomainState.RUNNING);
        assertThat(journal.pending()).isEmpty();
    }

    @Test
    void whatCouldNotBeUnmountedOrRemovedStaysInTheJournalAndRecoveryRemovesIt() throws Exception {
        SnapshotDmHold hold = hold();
        hold.hold();
        lvm.busy = true;

        assertThatThrownBy(() -> hold.copy(disks, (disk, readFrom) -> List.of()))
                .isInstanceOfSatisfying(BackupException.class, e -> assertThat(e.getMessage())
                        .contains("target is busy").contains("'virt-backup recover' removes them"));
        assertThat(journal.pending()).extracting(RecoveryJournal.Undo::action).containsExactly(
                RecoveryJournal.Undo.REMOVE_SNAPSHOT, RecoveryJournal.Undo.UNMOUNT);
        assertThat(lvm.snapshots()).as("the one not mounted is removed").containsExactly("vbt/images-vbsnap-1");
        assertThat(lvm.mounts()).hasSize(1);

        lvm.busy = false;
        RecoveryJournal left = RecoveryJournal.of(new StateDirectory(dir.resolve("state")), hypervisor.uri(), "web");
        new JournalReplay(hypervisor, log, lvm).finish(left);

        assertThat(lvm.mounts()).isEmpty();
        assertThat(lvm.snapshots()).isEmpty();
        assertThat(vm.state()).isEqualTo(DomainState.RUNNING);
        assertThat(RecoveryJournal.of(new StateDirectory(dir.resolve("state")), hypervisor.uri(), "web").isEmpty())
                .isTrue();
    }

    @Test
    void recoveryLeavesAVolumeOfTheSameNameThatIsNotASnapshotOfTheOrigin() throws Exception {
        Path other = lvm.volume("vbt", "images-vbsnap-1", 8 * MIB, "linear");
        journal.willDo(new RecoveryJournal.Undo(RecoveryJournal.Undo.REMOVE_SNAPSHOT,
                Map.of("vg", "vbt", "lv", "images-vbsnap-1", "origin", "images")));

        new JournalReplay(hypervisor, log, lvm).finish(journal);  // no failure: nothing of the domain's is wrong

        assertThat(other).exists();
        assertThat(lvm.calls).noneMatch(c -> c.startsWith("lvremove"));
        assertThat(journal.isEmpty()).as("the step is done with").isTrue();
    }
}
