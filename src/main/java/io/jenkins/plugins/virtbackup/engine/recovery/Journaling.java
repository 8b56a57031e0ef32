package io.jenkins.plugins.virtbackup.engine.recovery;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import java.io.IOException;

/** The two journal calls every hold makes, with the failure handling they share. */
public final class Journaling {
    private Journaling() {
    }

    /** Records a step before it is taken; if that fails, the step is not taken. */
    public static void willDo(RecoveryJournal journal, RecoveryJournal.Undo undo) throws BackupException {
        try {
            journal.willDo(undo);
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot write the recovery journal, so the domain "
                    + "was not touched: " + BackupDirectory.describe(e), e);
        }
    }

    /** Forgets an undone step. If that fails the entry stays: recovery re-checks and finds nothing to do. */
    public static void undone(RecoveryJournal journal, RecoveryJournal.Undo undo, BackupLog log) {
        try {
            journal.undone(undo);
        } catch (IOException e) {
            log.warning("cannot update the recovery journal: " + e.getMessage());
        }
    }
}
