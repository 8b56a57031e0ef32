package io.jenkins.plugins.virtbackup.engine.recovery;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.Hypervisor;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.image.FileIdentity;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.lvm.VolumeTools;
import io.jenkins.plugins.virtbackup.engine.modes.FileSystemFreeze;
import io.jenkins.plugins.virtbackup.engine.modes.OverlayMerge;
import io.jenkins.plugins.virtbackup.engine.modes.ShutdownHold;
import io.jenkins.plugins.virtbackup.engine.modes.SnapshotDmHold;
import io.jenkins.plugins.virtbackup.engine.modes.SnapshotLibvirtHold;
import io.jenkins.plugins.virtbackup.engine.modes.SuspendHold;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Finishes what a dead run left in its recovery journal, newest step first. Every step checks the
 * domain before acting, so running it twice, or after the dead run got halfway, is harmless.
 */
public final class JournalReplay {
    /** How long to wait for a job libvirt still runs for the dead process (a save, a snapshot). */
    private static final Duration JOB_WAIT = Duration.ofMinutes(30);
    /** How long a guest that was asked to shut down may take before it is started again. */
    private static final Duration SHUTDOWN_WAIT = Duration.ofMinutes(5);
    private static final Duration POLL = Duration.ofMillis(200);

    private final Hypervisor hypervisor;
    private final BackupLog log;
    private final VolumeTools volumes;

    public JournalReplay(Hypervisor hypervisor, BackupLog log) {
        this(hypervisor, log, VolumeTools.ABSENT);
    }

    /** @param volumes the host's LVM and mount table, for what snapshot-dm left */
    public JournalReplay(Hypervisor hypervisor, BackupLog log, VolumeTools volumes) {
        this.hypervisor = hypervisor;
        this.log = log;
        this.volumes = volumes;
    }

    /**
     * Undoes every pending step and removes the dead run's unfinished backup.
     *
     * @throws BackupException {@link ExitStatus#VM_NOT_RESTORED} when a step cannot be undone; the
     *         journal then keeps what is left
     */
    public void finish(RecoveryJournal journal) throws BackupException {
        String name = journal.domain();
        List<RecoveryJournal.Undo> steps = journal.pending();
        String refused = null;
        for (int i = steps.size() - 1; i >= 0; i--) {
            RecoveryJournal.Undo step = steps.get(i);
            log.warning("recovering domain '" + name + "': " + describe(step));
            try {
                undo(name, step);
            } catch (RefusedStep e) {
                // Replaying it would do harm, and it never will be safe again: say so once, drop it.
                log.critical(e.getMessage());
                refused = e.getMessage();
            } catch (BackupException e) {
                throw new BackupException(e.status(), e.getMessage() + keptForNextTry(journal), e);
            } catch (HypervisorException | IOException e) {
                throw notUndone(name, step, e, journal);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BackupException(ExitStatus.VM_NOT_RESTORED, "interrupted while recovering '" + name + "'", e);
            }
            Journaling.undone(journal, step, log);
        }
        try {
            removeUnfinishedBackup(journal);
            journal.finished();
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "recovered domain '" + name
                    + "' but cannot clean up after the earlier run: " + e.getMessage(), e);
        }
        if (refused != null) {
            BackupException failure = new BackupException(ExitStatus.VM_NOT_RESTORED, refused);
            failure.markReported();
            throw failure;
        }
    }

    /**
     * A step that stays undone: the domain is not as it was, unless the step is about what the
     * earlier run left beside it (a snapshot, a mount), which is a failure but no unrestored domain.
     */
    private static BackupException notUndone(String name, RecoveryJournal.Undo step, Exception e,
                                             RecoveryJournal journal) {
        boolean besideTheDomain = step.action().equals(RecoveryJournal.Undo.REMOVE_SNAPSHOT)
                || step.action().equals(RecoveryJournal.Undo.UNMOUNT);
        return besideTheDomain
                ? new BackupException(ExitStatus.BACKUP_FAILED, "cannot clean up after the earlier run of domain '"
                        + name + "' (" + describe(step) + "): " + e.getMessage() + keptForNextTry(journal), e)
                : new BackupException(ExitStatus.VM_NOT_RESTORED, "cannot recover domain '" + name + "' ("
                        + describe(step) + "): " + e.getMessage() + keptForNextTry(journal), e);
    }

    /** What happens to a step recovery could not finish, and the way out once an admin has. */
    private static String keptForNextTry(RecoveryJournal journal) {
        return "; the journal keeps it for the next try (once the domain is put right by hand, delete "
                + journal.file() + " to drop it)";
    }

    /** A journaled step that must not be replayed, because what it would undo has moved on since. */
    private static final class RefusedStep extends Exception {
        RefusedStep(String message) {
            super(message);
        }
    }

    private void undo(String name, RecoveryJournal.Undo step)
            throws HypervisorException, IOException, InterruptedException, RefusedStep, BackupException {
        switch (step.action()) {
            case RecoveryJournal.Undo.START -> startAgain(name, step);
            case RecoveryJournal.Undo.RESTORE -> restore(name, step);
            case RecoveryJournal.Undo.MERGE -> merge(name, step);
            case RecoveryJournal.Undo.ABORT_JOB -> abortJob(name);
            case RecoveryJournal.Undo.THAW -> thaw(name);
            case RecoveryJournal.Undo.DELETE_CHECKPOINT -> deleteCheckpoint(name, step.detail("checkpoint"));
            case RecoveryJournal.Undo.REMOVE_SCRATCH -> removeScratch(Path.of(step.detail("folder")));
            case RecoveryJournal.Undo.UNMOUNT -> SnapshotDmHold.unmount(volumes, Path.of(step.detail("dir")));
            case RecoveryJournal.Undo.REMOVE_SNAPSHOT -> removeSnapshot(step);
            default -> throw new IOException("unknown step '" + step.action() + "' in the journal");
        }
    }

    /**
     * A guest the dead run asked to shut down reports "running" until it powers off by itself: it
     * is given until the end of the dead run's shutdown wait (the journal says when), then started
     * once it is off. Still running after that, it ignored the request, which is as found.
     */
    private void startAgain(String name, RecoveryJournal.Undo step) throws HypervisorException, InterruptedException {
        VirtualMachine vm = hypervisor.lookup(name);
        DomainState now = vm.state();
        if (now == DomainState.RUNNING || now == DomainState.OTHER) {
            Duration wait = now == DomainState.OTHER ? SHUTDOWN_WAIT : timeLeftToPowerOff(step);
            if (!wait.isZero()) {
                log.warning("domain '" + name + "' is still shutting down: waiting up to " + wait.toSeconds()
                        + " s to start it again");
            }
            now = ShutdownHold.awaitPowerOff(vm, wait);
        }
        if (now == DomainState.SHUT_OFF) {
            log.detail("starting domain '" + name + "' again");
            vm.start();
        } else if (now == DomainState.RUNNING) {
            log.detail("domain '" + name + "' runs: nothing to start");
        }
    }

    /** What is left of the dead run's shutdown wait and grace; a grace when the journal does not say. */
    private static Duration timeLeftToPowerOff(RecoveryJournal.Undo step) {
        String until = step.detail(ShutdownHold.UNTIL);
        try {
            return until == null ? ShutdownHold.PUT_BACK_GRACE
                    : Duration.ofMillis(Math.max(0, Long.parseLong(until) - System.currentTimeMillis()));
        } catch (NumberFormatException e) {
            return ShutdownHold.PUT_BACK_GRACE;
        }
    }

    private void restore(String name, RecoveryJournal.Undo step)
            throws HypervisorException, InterruptedException, IOException, RefusedStep {
        Path stateFile = Path.of(step.detail("file"));
        VirtualMachine vm = lookUpIfDefined(name);
        if (vm != null) {
            awaitNoJob(vm);  // libvirt finishes a save even when its client died
            if (vm.state().isActive()) {
                return;  // the save never stopped it, or the restore already happened
            }
        }
        if (!Files.exists(stateFile)) {
            throw new IOException("it is shut off and its saved state " + stateFile + " is gone; start it with: "
                    + "virsh start '" + name + "'");
        }
        if (step.detail(SuspendHold.DISKS) != null) {
            List<String> changes = FileIdentity.changesSince(FileIdentity.fromJournal(step.detail(SuspendHold.DISKS)));
            if (!changes.isEmpty()) {
                throw new RefusedStep(SuspendHold.staleStateMessage(name, stateFile, changes));
            }
        }
        log.detail("restoring domain '" + name + "' from " + stateFile);
        hypervisor.restoreState(stateFile);
        if (Boolean.parseBoolean(step.detail("paused"))) {
            hypervisor.lookup(name).pause();
        }
    }

    private void merge(String name, RecoveryJournal.Undo step)
            throws HypervisorException, InterruptedException, IOException {
        String target = step.detail("target");
        Path overlay = Path.of(step.detail("overlay"));
        VirtualMachine vm = hypervisor.lookup(name);
        awaitNoJob(vm);  // a snapshot libvirt still takes for the dead run finishes first
        if (SnapshotLibvirtHold.writesTo(vm, target, overlay)) {
            if (!vm.state().isActive()) {
                throw new IOException("it is shut off on the overlay " + overlay + "; merge it with: qemu-img commit "
                        + overlay + ", then point disk " + target + " back at its image (virsh edit)");
            }
            log.detail("merging " + overlay + " back (disk " + target + ")");
            OverlayMerge.merge(vm, target, OverlayMerge.TIMEOUT);
            // The same check as the run's own merge: back on the chain it was found on, nothing below written.
            if (step.detail("below") != null) {
                Optional<String> changed = SnapshotLibvirtHold.changesToChain(vm, name, target,
                        Path.of(step.detail("image")), step.detail("format"),
                        FileIdentity.fromJournal(step.detail("below")));
                if (changed.isPresent()) {
                    throw new IOException(changed.get());
                }
            }
        }
        Files.deleteIfExists(overlay);
    }

    private void abortJob(String name) throws HypervisorException, InterruptedException {
        VirtualMachine vm = hypervisor.lookup(name);
        if (hasJob(vm)) {
            log.detail("aborting the backup job of domain '" + name + "'");
            vm.abortBackupJob();
            awaitNoJob(vm);
        }
    }

    /** A freeze was attempted: its thaw must be confirmed before the step is forgotten. */
    private void thaw(String name) throws HypervisorException, BackupException {
        VirtualMachine vm = hypervisor.lookup(name);
        if (vm.state() == DomainState.RUNNING) {
            new FileSystemFreeze(vm, name, log).thaw();
        }
    }

    /**
     * A checkpoint of a backup that never completed: no backup names it, so nothing builds on it.
     * Deleting it merges its bitmap into its parent's, which keeps counting every change.
     */
    private void deleteCheckpoint(String name, String checkpoint) throws HypervisorException {
        VirtualMachine vm = lookUpIfDefined(name);
        if (vm != null && vm.checkpointNames().contains(checkpoint)) {
            log.detail("deleting checkpoint " + checkpoint + " of domain '" + name + "'");
            vm.deleteCheckpoint(checkpoint);
        }
    }

    /** Once no job runs (undone before this step), the scratch files are of no use. */
    private void removeScratch(Path folder) throws IOException {
        if (Files.isDirectory(folder)) {
            BackupDirectory.deleteTree(folder);
        }
    }

    /**
     * Removes the dead run's snapshot, if it is still there and still a snapshot of the volume the
     * journal names: a volume of that name that is anything else is not ours to remove.
     */
    private void removeSnapshot(RecoveryJournal.Undo step) throws IOException {
        String vg = step.detail("vg");
        String lv = step.detail("lv");
        Optional<VolumeTools.SnapshotState> state = volumes.snapshotState(vg, lv);
        if (state.isEmpty()) {
            return;
        }
        if (!state.get().origin().equals(step.detail("origin"))) {
            // The dead run never made it (its lvcreate failed): the name belongs to something else.
            log.warning("logical volume " + vg + "/" + lv + " is not a snapshot of " + step.detail("origin")
                    + ": not the earlier run's, left as it is");
            return;
        }
        SnapshotDmHold.removeSnapshot(volumes, vg, lv, log);
    }

    /** An inactive domain, or one on a driver without jobs (the test driver), has none running. */
    private static boolean hasJob(VirtualMachine vm) throws HypervisorException {
        try {
            return vm.state().isActive() && vm.currentJob().active();
        } catch (HypervisorException e) {
            if (e.kind() == HypervisorException.Kind.UNSUPPORTED) {
                return false;
            }
            throw e;
        }
    }

    private VirtualMachine lookUpIfDefined(String name) throws HypervisorException {
        try {
            return hypervisor.lookup(name);
        } catch (HypervisorException e) {
            if (e.kind() == HypervisorException.Kind.NOT_FOUND) {
                return null;  // a transient domain vanishes when saved
            }
            throw e;
        }
    }

    private void awaitNoJob(VirtualMachine vm) throws HypervisorException, InterruptedException {
        long deadline = System.nanoTime() + JOB_WAIT.toNanos();
        while (hasJob(vm)) {
            if (System.nanoTime() > deadline) {
                throw new HypervisorException(HypervisorException.Kind.OTHER,
                        "a job of the domain still runs after " + JOB_WAIT.toMinutes() + " minutes", null);
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    private void removeUnfinishedBackup(RecoveryJournal journal) throws IOException {
        Path dir = journal.backupDirectory().orElse(null);
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        if (!dir.getFileName().toString().endsWith(BackupDirectory.PARTIAL_SUFFIX)) {
            return;  // never delete anything that is not an unfinished backup
        }
        log.detail("removing the unfinished backup " + dir);
        BackupDirectory.deleteTree(dir);
    }

    private static String describe(RecoveryJournal.Undo step) {
        return switch (step.action()) {
            case RecoveryJournal.Undo.START -> "start it again after a shutdown";
            case RecoveryJournal.Undo.RESTORE -> "restore it from " + step.detail("file");
            case RecoveryJournal.Undo.MERGE -> "merge " + step.detail("overlay") + " back into " + step.detail("image");
            case RecoveryJournal.Undo.ABORT_JOB -> "abort its backup job";
            case RecoveryJournal.Undo.THAW -> "thaw its file systems";
            case RecoveryJournal.Undo.DELETE_CHECKPOINT -> "delete checkpoint " + step.detail("checkpoint")
                    + " of a backup that never completed";
            case RecoveryJournal.Undo.REMOVE_SCRATCH -> "remove the scratch files in " + step.detail("folder");
            case RecoveryJournal.Undo.UNMOUNT -> "unmount the snapshot at " + step.detail("dir");
            case RecoveryJournal.Undo.REMOVE_SNAPSHOT -> "remove snapshot " + step.detail("vg") + "/"
                    + step.detail("lv") + " of " + step.detail("origin");
            default -> step.action();
        };
    }
}
