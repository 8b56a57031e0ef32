package io.jenkins.plugins.virtbackup.jenkins;

import io.jenkins.plugins.virtbackup.engine.ExitStatus;

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
     * The build's failure message for a nonzero exit.
     *
     * @param lastProblem the engine's last error line, or null when it printed none
     */
    public static String failure(String domain, int code, String lastProblem) {
        String reason = lastProblem != null ? lastProblem : Messages.EngineExit_noMessage();
        return Messages.EngineExit_failed(domain, code, meaning(code), reason);
    }

    static String meaning(int code) {
        if (code == SIGINT_EXIT || code == SIGTERM_EXIT) {
            return Messages.EngineExit_stopped();
        }
        for (ExitStatus status : ExitStatus.values()) {
            if (status.code() == code) {
                switch (status) {
                    case BACKUP_FAILED:
                        return Messages.EngineExit_backupFailed();
                    case USAGE:
                        return Messages.EngineExit_usage();
                    case NOT_FOUND:
                        return Messages.EngineExit_notFound();
                    case HYPERVISOR_UNREACHABLE:
                        return Messages.EngineExit_unreachable();
                    case VM_NOT_RESTORED:
                        return Messages.EngineExit_notRestored();
                    case BUSY:
                        return Messages.EngineExit_busy();
                    case CHAIN_BROKEN:
                        return Messages.EngineExit_chainBroken();
                    default:
                        break;
                }
            }
        }
        return Messages.EngineExit_unknown();
    }
}
