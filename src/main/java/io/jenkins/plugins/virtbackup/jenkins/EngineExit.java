package io.jenkins.plugins.virtbackup.jenkins;

import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.jenkins.EngineTask.Kind;

/** What the engine's exit code means for the build: the one line a failed build reports. */
public final class EngineExit {
    /** 128 + signal number, as the engine exits when stopped by SIGINT or SIGTERM. */
    static final int SIGINT_EXIT = 130;
    static final int SIGTERM_EXIT = 143;

    private EngineExit() {
    }

    public static boolean succeeded(int code) {
        return code == ExitStatus.OK.code();
    }

    /**
     * The build's failure message for a nonzero exit of a backup of {@code domain}.
     *
     * @param lastProblem the engine's last error line, or null when it printed none
     */
    public static String failure(String domain, int code, String lastProblem) {
        return failure(Kind.BACKUP, domain, code, lastProblem);
    }

    /** The same for any kind of run, named by its subject (the domain, or the backup restored). */
    static String failure(Kind kind, String subject, int code, String lastProblem) {
        String reason = lastProblem != null ? lastProblem : Messages.EngineExit_noMessage();
        return Messages.EngineExit_failed(kind.describe(subject), code, meaning(kind, code), reason);
    }

    static String meaning(Kind kind, int code) {
        boolean restore = kind.restores();
        if (code == SIGINT_EXIT || code == SIGTERM_EXIT) {
            return restore ? Messages.EngineExit_restoreStopped() : Messages.EngineExit_stopped();
        }
        for (ExitStatus status : ExitStatus.values()) {
            if (status.code() == code) {
                return meaning(status, restore);
            }
        }
        return Messages.EngineExit_unknown();
    }

    private static String meaning(ExitStatus status, boolean restore) {
        switch (status) {
            case BACKUP_FAILED:
                return restore ? Messages.EngineExit_restoreFailed() : Messages.EngineExit_backupFailed();
            case USAGE:
                return Messages.EngineExit_usage();
            case NOT_FOUND:
                return restore ? Messages.EngineExit_backupNotFound() : Messages.EngineExit_notFound();
            case HYPERVISOR_UNREACHABLE:
                return Messages.EngineExit_unreachable();
            case VM_NOT_RESTORED:
                return Messages.EngineExit_notRestored();
            case BUSY:
                return Messages.EngineExit_busy();
            case VERIFY_FAILED:
                return Messages.EngineExit_verifyFailed();
            case CHAIN_BROKEN:
                return Messages.EngineExit_chainBroken();
            case RESTORE_TARGET_EXISTS:
                return Messages.EngineExit_restoreTargetExists();
            case RESTORE_TEST_FAILED:
                return Messages.EngineExit_restoreTestFailed();
            default:
                return Messages.EngineExit_unknown();
        }
    }
}
