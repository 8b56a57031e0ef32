package io.jenkins.plugins.virtbackup.engine.modes;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.copy.Sizes;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.lvm.SnapshotPlan;
import io.jenkins.plugins.virtbackup.engine.lvm.VolumeTools;
import io.jenkins.plugins.virtbackup.engine.recovery.Journaling;
import io.jenkins.plugins.virtbackup.engine.recovery.RecoveryJournal;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code snapshot-dm} mode: the domain's RAM is saved into the backup, as in {@code suspend}; while
 * it is stopped, each logical volume its images reside on gets an LVM snapshot; then the domain is
 * restored from the saved state and runs on. The disks are copied from the snapshots (a volume that
 * is a disk from the snapshot's device, image files from the snapshot's file system mounted
 * read-only), and the snapshots are removed. The downtime is the save, the snapshots and the restore.
 *
 * <p>A snapshot holds the origin's old blocks as the guest overwrites them, in the room it was
 * given. Should it overflow during the copy, LVM drops it: the backup fails and says so; the
 * domain already runs, and nothing else is touched. Every snapshot and mount is journaled before
 * it is made, so {@code recover} removes what a dead run left.
 */
public final class SnapshotDmHold implements GuestHold {
    private final SuspendHold suspend;
    private final SnapshotPlan plan;
    private final VolumeTools tools;
    private final String name;
    private final BackupLog log;
    private final RecoveryJournal journal;
    /** Snapshots that exist, by origin ({@code vg/lv}), with their journal step. */
    private final Map<String, RecoveryJournal.Undo> snapshots = new LinkedHashMap<>();
    /** Mounted snapshots, by mount folder, with their journal step. */
    private final Map<Path, RecoveryJournal.Undo> mounts = new LinkedHashMap<>();
    private Downtime downtime;

    public SnapshotDmHold(SuspendHold suspend, SnapshotPlan plan, VolumeTools tools, String name, BackupLog log,
                          RecoveryJournal journal) {
        this.suspend = suspend;
        this.plan = plan;
        this.tools = tools;
        this.name = name;
        this.log = log;
        this.journal = journal;
    }

    /** Save, snapshot, restore: on return the domain runs again and the snapshots exist. */
    @Override
    public synchronized void hold() throws BackupException {
        long started = System.nanoTime();
        suspend.hold();
        BackupException failure = null;
        try {
            createSnapshots();
        } catch (BackupException e) {
            failure = e;
            removeSnapshotsQuietly();
        }
        suspend.putBack();  // a failure here is louder than the snapshot's: VM_NOT_RESTORED
        downtime = Downtime.measured(System.nanoTime() - started);
        log.detail("domain '" + name + "' runs again after " + downtime.describe() + " (save, snapshot, restore)");
        if (failure != null) {
            throw failure;
        }
    }

    private void createSnapshots() throws BackupException {
        for (SnapshotPlan.Volume volume : plan.volumes()) {
            Map<String, String> details = new LinkedHashMap<>();
            details.put("vg", volume.origin().vg());
            details.put("lv", volume.snapshot());
            details.put("origin", volume.origin().name());
            RecoveryJournal.Undo step = new RecoveryJournal.Undo(RecoveryJournal.Undo.REMOVE_SNAPSHOT, details);
            Journaling.willDo(journal, step);
            snapshots.put(volume.origin().fullName(), step);
            log.detail("creating snapshot " + volume.origin().vg() + "/" + volume.snapshot() + " of "
                    + volume.origin().fullName() + " (" + Sizes.human(volume.bytes()) + ")");
            try {
                tools.createSnapshot(volume.origin(), volume.snapshot(), volume.bytes());
            } catch (IOException e) {
                // LVM made nothing (a volume of that name there already is not ours to remove).
                snapshots.remove(volume.origin().fullName());
                Journaling.undone(journal, step, log);
                throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot snapshot logical volume "
                        + volume.origin().fullName() + " of domain '" + name + "': " + e.getMessage()
                        + " (the error log has LVM's words)", e);
            }
        }
    }

    @Override
    public Optional<Downtime> downtime() {
        return Optional.ofNullable(downtime);
    }

    /** Copies every disk from the snapshots, then checks that none overflowed meanwhile, then removes them. */
    @Override
    public List<BackedUpFile> copy(List<Disk> disks, DiskCopy copier) throws BackupException, IOException {
        List<BackedUpFile> files = new ArrayList<>();
        boolean copied = false;
        try {
            mountFileSystems();
            plan.requireInsideSnapshots();
            for (Disk disk : disks) {
                files.addAll(copier.copy(disk, plan::readFrom));
            }
            refuseOverflowed(null);
            copied = true;
        } catch (IOException e) {
            refuseOverflowed(e);  // reading an overflowed snapshot fails: say why, not just "I/O error"
            throw e;
        } finally {
            if (copied) {
                cleanUp();
            } else {
                cleanUpAfterFailure();
            }
        }
        return files;
    }

    private void mountFileSystems() throws BackupException {
        for (SnapshotPlan.Volume volume : plan.volumes()) {
            if (volume.fileSystem() == null) {
                continue;
            }
            Path dir = volume.mountDir();
            RecoveryJournal.Undo step = new RecoveryJournal.Undo(RecoveryJournal.Undo.UNMOUNT,
                    Map.of("dir", dir.toString()));
            try {
                Files.createDirectories(dir);
                Journaling.willDo(journal, step);
                mounts.put(dir, step);
                log.detail("mounting snapshot " + volume.snapshotDevice() + " read-only at " + dir + " ("
                        + volume.mountOptions() + ")");
                tools.mount(volume.snapshotDevice(), volume.fileSystem().fsType(), volume.mountOptions(), dir);
            } catch (IOException e) {
                throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot mount the snapshot of "
                        + volume.origin().fullName() + " at " + dir + ": " + e.getMessage(), e);
            }
        }
    }

    /** An overflowed snapshot makes the copy worthless: fail, naming it and the way out. */
    private void refuseOverflowed(IOException cause) throws BackupException {
        for (SnapshotPlan.Volume volume : plan.volumes()) {
            Optional<VolumeTools.SnapshotState> state;
            try {
                state = tools.snapshotState(volume.origin().vg(), volume.snapshot());
            } catch (IOException e) {
                throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot check snapshot "
                        + volume.origin().vg() + "/" + volume.snapshot() + ": " + e.getMessage(), e);
            }
            if (state.isEmpty()) {
                throw new BackupException(ExitStatus.BACKUP_FAILED, "the snapshot " + volume.origin().vg() + "/"
                        + volume.snapshot() + " of " + volume.origin().fullName() + " is gone before the copy was "
                        + "complete (removed by someone else?): the copy is not consistent; the domain runs on", cause);
            }
            if (state.get().invalid()) {
                throw new BackupException(ExitStatus.BACKUP_FAILED, "the snapshot of "
                        + volume.origin().fullName() + " overflowed before the copy was complete: the guest wrote more than its "
                        + Sizes.human(volume.bytes()) + " meanwhile, so LVM dropped it and the copy is not "
                        + "consistent; the domain runs on, untouched; give the snapshots more room with "
                        + "--snapshot-size", cause);
            }
        }
    }

    /** Unmounts and removes what exists; the journal keeps whatever could not be, for recovery. */
    private void cleanUp() throws BackupException {
        List<String> left = new ArrayList<>();
        for (Map.Entry<Path, RecoveryJournal.Undo> mount : new ArrayList<>(mounts.entrySet())) {
            try {
                unmount(tools, mount.getKey());
                mounts.remove(mount.getKey());
                Journaling.undone(journal, mount.getValue(), log);
            } catch (IOException e) {
                left.add(e.getMessage());
            }
        }
        removeSnapshots(left);
        if (!left.isEmpty()) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, String.join("; ", left)
                    + "; 'virt-backup recover' removes them");
        }
    }

    /** As {@link #cleanUp}, while a failure is on its way out: that failure stays the one reported. */
    private void cleanUpAfterFailure() {
        try {
            cleanUp();
        } catch (BackupException e) {
            log.warning(e.getMessage());
        }
    }

    private void removeSnapshots(List<String> left) {
        for (SnapshotPlan.Volume volume : plan.volumes()) {
            RecoveryJournal.Undo step = snapshots.get(volume.origin().fullName());
            if (step == null) {
                continue;
            }
            if (volume.mountDir() != null && mounts.containsKey(volume.mountDir())) {
                left.add("snapshot " + volume.snapshotDevice() + " stays: it is still mounted");
                continue;
            }
            try {
                removeSnapshot(tools, volume.origin().vg(), volume.snapshot(), log);
                snapshots.remove(volume.origin().fullName());
                Journaling.undone(journal, step, log);
            } catch (IOException e) {
                left.add(e.getMessage());
            }
        }
    }

    private void removeSnapshotsQuietly() {
        List<String> left = new ArrayList<>();
        removeSnapshots(left);
        left.forEach(log::warning);
    }

    /** Unmounts {@code dir} if something is mounted there, then removes the folder; recovery does this too. */
    public static void unmount(VolumeTools tools, Path dir) throws IOException {
        if (tools.isMountPoint(dir)) {
            tools.unmount(dir);
        }
        Files.deleteIfExists(dir);
    }

    /** Removes snapshot {@code vg/lv} if it exists; recovery does this too. */
    public static void removeSnapshot(VolumeTools tools, String vg, String lv, BackupLog log) throws IOException {
        if (tools.snapshotState(vg, lv).isPresent()) {
            log.detail("removing snapshot " + vg + "/" + lv);
            tools.removeSnapshot(vg, lv);
        }
    }

    /**
     * The domain runs again after {@link #hold}; this only matters when the hold failed halfway or
     * the run is stopped: the saved state is restored if it was not, and what is not mounted any
     * more is removed. A snapshot still mounted (a copy in progress) is left to the copy's end.
     */
    @Override
    public synchronized void putBack() throws BackupException {
        suspend.putBack();
    }

    @Override
    public void discard() {
        if (mounts.isEmpty()) {
            removeSnapshotsQuietly();
        }
    }
}
