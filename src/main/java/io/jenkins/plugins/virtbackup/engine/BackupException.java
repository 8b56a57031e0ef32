package io.jenkins.plugins.virtbackup.engine;

/** A failure that ends a backup, with the one-line message a user sees and the exit status it maps to. */
public class BackupException extends Exception {
    private static final long serialVersionUID = 1L;

    private final ExitStatus status;
    private boolean reported;

    public BackupException(ExitStatus status, String message) {
        super(message);
        this.status = status;
    }

    public BackupException(ExitStatus status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public ExitStatus status() {
        return status;
    }

    /** True once the engine has logged this failure, so that it is logged exactly once. */
    public boolean isReported() {
        return reported;
    }

    public void markReported() {
        reported = true;
    }
}
