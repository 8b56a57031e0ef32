package io.jenkins.plugins.virtbackup.jenkins;

import java.io.Serializable;
import java.util.List;

/**
 * One run of the engine that a build step asks for: its command line, checked before it starts, and
 * what the build's messages call it. {@link EngineProcess} runs any of them the same way. Plain values
 * only: a pipeline saves the task with its program.
 */
interface EngineTask extends Serializable {
    /** What the run does, which decides how its exit codes and an abort are explained. */
    enum Kind {
        BACKUP,
        /** {@code --all}: its subject says which domains are left out, if any. */
        BACKUP_ALL,
        RESTORE,
        RESTORE_TEST;

        /** The run as the build's messages name it: {@code virt-backup of domain 'web'}. */
        String describe(String subject) {
            switch (this) {
                case RESTORE:
                    return Messages.EngineTask_restore(subject);
                case RESTORE_TEST:
                    return Messages.EngineTask_restoreTest(subject);
                case BACKUP_ALL:
                    return Messages.EngineTask_backupAll(subject);
                default:
                    return Messages.EngineTask_backup(subject);
            }
        }

        /** What the engine does on SIGTERM before it ends, and so what an aborted build waits for. */
        String cleanUp(String subject) {
            if (this == BACKUP_ALL) {
                return Messages.EngineTask_putBackAll();
            }
            return this == BACKUP ? Messages.EngineTask_putBack(subject) : Messages.EngineTask_removeRestored(subject);
        }

        /** A restore or a restore test: the exit codes mean what they mean for a restore. */
        boolean restores() {
            return this == RESTORE || this == RESTORE_TEST;
        }

        /** What to look at on the node when the build stopped waiting for that clean-up. */
        String checkAfterwards(String subject) {
            if (this == BACKUP_ALL) {
                return Messages.EngineTask_checkDomains();
            }
            return this == BACKUP ? Messages.EngineTask_checkDomain(subject)
                    : Messages.EngineTask_checkRestored(subject);
        }
    }

    Kind kind();

    /** What the run is about: the domain backed up, the backup restored. */
    String subject();

    /** Everything wrong with the task, one message each; empty when the engine may be started. */
    List<String> problems();

    /**
     * The engine's arguments, what follows {@code java -jar virt-backup-cli.jar}.
     *
     * @param resultFile a path on the node for {@code --result-file}; null for none
     */
    List<String> cliArguments(String resultFile);

    default String description() {
        return kind().describe(subject());
    }
}
