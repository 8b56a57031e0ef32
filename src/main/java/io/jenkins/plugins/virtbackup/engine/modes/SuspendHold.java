package io.jenkins.plugins.virtbackup.engine.modes;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.Hypervisor;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.image.FileIdentity;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.recovery.Journaling;
import io.jenkins.plugins.virtbackup.engine.recovery.RecoveryJournal;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code suspend} mode: RAM and device state are saved into the backup and the domain stops; after
 * the copy it is started again from that very file. The saved state and the disk copies together
 * are a consistent live image that {@code virsh restore} can bring back.
 *
 * <p>A saved state belongs to the disks as they were at the save: restored over disks that changed
 * since (the domain was started by hand meanwhile), it would corrupt the guest's file systems. So
 * the disks' identity is journaled with the save and checked before any restore, here and in
 * recovery.
 */
public final class SuspendHold implements GuestHold {
    public static final String DISKS = "disks";

    private final Hypervisor hypervisor;
    private final VirtualMachine vm;
    private final String name;
    private final Path stateFile;
    private final boolean wasPaused;
    private final BackupLog log;
    private final RecoveryJournal journal;
    private RecoveryJournal.Undo undo;
    private List<FileIdentity> disksAtSave = List.of();
    private boolean saved;

    public SuspendHold(Hypervisor hypervisor, VirtualMachine vm, String name, Path stateFile, boolean wasPaused,
                       BackupLog log, RecoveryJournal journal) {
        this.hypervisor = hypervisor;
        this.vm = vm;
        this.name = name;
        this.stateFile = stateFile;
        this.wasPaused = wasPaused;
        this.log = log;
        this.journal = journal;
        this.undo = new RecoveryJournal.Undo(RecoveryJournal.Undo.RESTORE, details(List.of()));
    }

    @Override
    public synchronized void hold() throws BackupException {
        List<Path> images;
        try {
            images = FileIdentity.localImages(vm.disks());
        } catch (HypervisorException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot read the disks of domain '" + name + "': "
                    + e.getMessage(), e);
        }
        Journaling.willDo(journal, undo);
        log.detail("saving the state of domain '" + name + "' to " + stateFile);
        try {
            vm.saveState(stateFile);
            saved = true;
            log.detail("saved the state of domain '" + name + "'");
        } catch (HypervisorException e) {
            // A failed save normally leaves the domain running; if it stopped anyway, bring it back.
            saved = stoppedAnyway();
            if (!saved) {
                Journaling.undone(journal, undo, log);
            }
            throw new BackupException(ExitStatus.BACKUP_FAILED,
                    "cannot save the state of domain '" + name + "': " + e.getMessage(), e);
        }
        recordDisks(images);
    }

    /** Journals the disks as the saved state expects them (QEMU has closed them: they are final now). */
    private void recordDisks(List<Path> images) {
        try {
            disksAtSave = FileIdentity.of(images);
            RecoveryJournal.Undo amended = new RecoveryJournal.Undo(RecoveryJournal.Undo.RESTORE, details(disksAtSave));
            journal.amend(undo, amended);
            undo = amended;
        } catch (IOException e) {
            log.warning("cannot journal the disks' state after the save: " + e.getMessage());
        }
    }

    private Map<String, String> details(List<FileIdentity> disks) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("file", stateFile.toString());
        details.put("paused", Boolean.toString(wasPaused));
        if (!disks.isEmpty()) {
            details.put(DISKS, FileIdentity.toJournal(disks));
        }
        return details;
    }

    @Override
    public synchronized void putBack() throws BackupException {
        if (!saved) {
            return;
        }
        refuseIfDisksChanged();
        try {
            log.detail("restoring domain '" + name + "' from " + stateFile);
            hypervisor.restoreState(stateFile);
            saved = false;
            if (wasPaused) {
                // libvirt-java has no restore-paused flag: pause it again right away.
                hypervisor.lookup(name).pause();
            }
            Journaling.undone(journal, undo, log);
        } catch (HypervisorException e) {
            String now = saved ? "is shut off; its state is saved in " + stateFile
                    + "; bring it back with: virsh restore '" + stateFile + "'"
                    : "was restored but could not be paused again; pause it with: virsh suspend " + name;
            throw new BackupException(ExitStatus.VM_NOT_RESTORED,
                    "domain '" + name + "' " + now + " (" + e.getMessage() + ")", e);
        }
    }

    private void refuseIfDisksChanged() throws BackupException {
        List<String> changes;
        try {
            changes = FileIdentity.changesSince(disksAtSave);
        } catch (IOException e) {
            changes = List.of(e.getMessage());
        }
        if (!changes.isEmpty()) {
            throw new BackupException(ExitStatus.VM_NOT_RESTORED, staleStateMessage(name, stateFile, changes));
        }
    }

    /** Why a saved state is not restored over disks that changed since; recovery says the same. */
    public static String staleStateMessage(String name, Path stateFile, List<String> changes) {
        return "domain '" + name + "' was not restored from " + stateFile + ": its disks changed since that state "
                + "was saved (" + String.join(", ", changes) + "), and restoring it over them would corrupt the "
                + "guest's file systems; it is left as it is: if it is shut off, start it afresh with: virsh start '"
                + name + "'";
    }

    private boolean stoppedAnyway() {
        try {
            return vm.state() == DomainState.SHUT_OFF;
        } catch (HypervisorException e) {
            return false;
        }
    }
}
