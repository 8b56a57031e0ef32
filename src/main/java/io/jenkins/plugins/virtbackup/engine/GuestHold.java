package io.jenkins.plugins.virtbackup.engine;

/**
 * How a domain is kept from writing its disks while they are copied, and how it is put back.
 * {@link #putBack} may be called from a signal handler while the main thread is still copying,
 * and again by the main thread: it acts once.
 */
interface GuestHold {

    /** Stops the guest's writes. On failure the domain is as it was found, or the exception says otherwise. */
    void hold() throws BackupException;

    /**
     * Returns the domain to the state it was found in, if {@link #hold} changed it.
     *
     * @throws BackupException with {@link ExitStatus#VM_NOT_RESTORED} saying what state it is in now
     */
    void putBack() throws BackupException;

    /** A domain that is shut off needs no holding. */
    GuestHold NONE = new GuestHold() {
        @Override
        public void hold() {
        }

        @Override
        public void putBack() {
        }
    };
}
