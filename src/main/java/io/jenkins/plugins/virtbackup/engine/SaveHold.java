package io.jenkins.plugins.virtbackup.engine;

import java.nio.file.Path;
import java.util.Map;

/**
 * {@code suspend} mode: RAM and device state are saved into the backup and the domain stops; after
 * the copy it is started again from that very file. The saved state and the disk copies together
 * are a consistent live image that {@code virsh restore} can bring back.
 */
final class SaveHold implements GuestHold {
    private final Hypervisor hypervisor;
    private final VirtualMachine vm;
    private final String name;
    private final Path stateFile;
    private final boolean wasPaused;
    private final BackupLog log;
    private final RecoveryJournal journal;
    private final RecoveryJournal.Undo undo;
    private boolean saved;

    SaveHold(Hypervisor hypervisor, VirtualMachine vm, String name, Path stateFile, boolean wasPaused, BackupLog log,
             RecoveryJournal journal) {
        this.hypervisor = hypervisor;
        this.vm = vm;
        this.name = name;
        this.stateFile = stateFile;
        this.wasPaused = wasPaused;
        this.log = log;
        this.journal = journal;
        this.undo = new RecoveryJournal.Undo(RecoveryJournal.Undo.RESTORE,
                Map.of("file", stateFile.toString(), "paused", Boolean.toString(wasPaused)));
    }

    @Override
    public synchronized void hold() throws BackupException {
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
    }

    @Override
    public synchronized void putBack() throws BackupException {
        if (!saved) {
            return;
        }
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

    private boolean stoppedAnyway() {
        try {
            return vm.state() == DomainState.SHUT_OFF;
        } catch (HypervisorException e) {
            return false;
        }
    }
}
