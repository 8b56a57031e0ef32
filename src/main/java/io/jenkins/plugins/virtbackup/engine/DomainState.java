package io.jenkins.plugins.virtbackup.engine;

/** The states of a domain that decide how it is backed up and what "as found" means afterwards. */
public enum DomainState {
    RUNNING,
    PAUSED,
    SHUT_OFF,
    /** Crashed, shutting down, suspended to RAM by the guest, or unknown: not safe to back up. */
    OTHER;

    public boolean isActive() {
        return this == RUNNING || this == PAUSED;
    }
}
