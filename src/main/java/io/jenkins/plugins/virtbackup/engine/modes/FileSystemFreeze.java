package io.jenkins.plugins.virtbackup.engine.modes;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.recovery.Journaling;
import io.jenkins.plugins.virtbackup.engine.recovery.RecoveryJournal;
import java.time.Duration;
import java.util.Map;

/**
 * {@code --quiesce}: the guest's file systems frozen through its agent for the moment the guest is
 * held, and thawed afterwards whenever a freeze was attempted. A freeze that got no answer in time
 * may still have frozen them (the agent carries on after libvirt gave up waiting), so it is thawed
 * as well; the journal's thaw step stays until a thaw is confirmed.
 */
public final class FileSystemFreeze {
    /** Thaw attempts before the file systems are reported as possibly still frozen. */
    static final int THAW_ATTEMPTS = 3;
    /** Pause between thaw attempts: an agent still busy with a late freeze gets time to finish it. */
    static final Duration THAW_PAUSE = Duration.ofSeconds(2);

    private final VirtualMachine vm;
    private final String name;
    private final BackupLog log;
    private final Duration pause;

    public FileSystemFreeze(VirtualMachine vm, String name, BackupLog log) {
        this(vm, name, log, THAW_PAUSE);
    }

    public FileSystemFreeze(VirtualMachine vm, String name, BackupLog log, Duration pause) {
        this.vm = vm;
        this.name = name;
        this.log = log;
        this.pause = pause;
    }

    /** A step run while the file systems are frozen. */
    @FunctionalInterface
    public interface Held {
        void run() throws BackupException;
    }

    /**
     * Freezes the file systems, runs {@code held}, thaws them unless the freeze certainly did
     * nothing.
     *
     * @throws BackupException {@link ExitStatus#VM_NOT_RESTORED} when the thaw cannot be confirmed,
     *         else what {@code held} threw
     */
    public void around(RecoveryJournal journal, Held held) throws BackupException {
        RecoveryJournal.Undo thawStep = new RecoveryJournal.Undo(RecoveryJournal.Undo.THAW, Map.of());
        Journaling.willDo(journal, thawStep);
        if (freeze() == FreezeResult.Outcome.NO_AGENT) {
            Journaling.undone(journal, thawStep, log);
            held.run();
            return;
        }
        try {
            held.run();
        } catch (BackupException | RuntimeException e) {
            thawAfterFailure(e);
            Journaling.undone(journal, thawStep, log);
            throw e;
        }
        thaw();
        Journaling.undone(journal, thawStep, log);
    }

    private FreezeResult.Outcome freeze() {
        FreezeResult result;
        try {
            result = vm.freezeFilesystems();
        } catch (HypervisorException e) {
            result = FreezeResult.uncertain(e.getMessage());
        }
        switch (result.outcome()) {
            case FROZEN -> log.detail("guest file systems frozen through the guest agent");
            case NO_AGENT -> log.warning("no guest agent answered (" + result.reason()
                    + "): the backup is crash-consistent, file systems were not frozen");
            default -> log.warning("the guest agent did not confirm the freeze (" + result.reason()
                    + "): the backup may be only crash-consistent; the file systems are thawed afterwards anyway");
        }
        return result.outcome();
    }

    /** The held step failed: thaw all the same; if that fails too, both are said, the thaw louder. */
    private void thawAfterFailure(Exception failure) throws BackupException {
        try {
            thaw();
        } catch (BackupException notThawed) {
            if (failure instanceof BackupException backupFailure && !backupFailure.isReported()) {
                log.error(backupFailure.getMessage());
                backupFailure.markReported();
            }
            notThawed.addSuppressed(failure);
            throw notThawed;
        }
    }

    /**
     * Thaws the guest's file systems, retrying a few times.
     *
     * @throws BackupException {@link ExitStatus#VM_NOT_RESTORED} with the command that thaws them by hand
     */
    public void thaw() throws BackupException {
        HypervisorException last = null;
        for (int attempt = 1; attempt <= THAW_ATTEMPTS; attempt++) {
            try {
                vm.thawFilesystems();
                log.detail("guest file systems thawed");
                return;
            } catch (HypervisorException e) {
                last = e;
                log.warning("thawing the guest's file systems failed (attempt " + attempt + " of " + THAW_ATTEMPTS
                        + "): " + e.getMessage());
            }
            if (attempt < THAW_ATTEMPTS && !pauseBeforeRetry()) {
                break;
            }
        }
        throw new BackupException(ExitStatus.VM_NOT_RESTORED, "the file systems of domain '" + name
                + "' may still be frozen: " + last.getMessage() + "; thaw them with: virsh domfsthaw " + name, last);
    }

    /** False when interrupted: no more attempts then. */
    private boolean pauseBeforeRetry() {
        try {
            Thread.sleep(pause.toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
