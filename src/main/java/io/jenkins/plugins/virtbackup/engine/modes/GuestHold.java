package io.jenkins.plugins.virtbackup.engine.modes;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * How a domain's disks are made stable to copy, and how the domain is put back afterwards.
 * {@link #putBack} may be called from a signal handler while the main thread is still copying,
 * and again by the main thread: it acts once.
 */
public interface GuestHold {

    /** Stops the guest's writes. On failure the domain is as it was found, or the exception says otherwise. */
    void hold() throws BackupException;

    /**
     * Returns the domain to the state it was found in, if {@link #hold} changed it.
     *
     * @throws BackupException with {@link ExitStatus#VM_NOT_RESTORED} saying what state it is in now
     */
    void putBack() throws BackupException;

    /**
     * Copies the selected disks once {@link #hold} succeeded. By default the engine copies each
     * disk's source file; a mode in which the hypervisor writes the copies overrides this.
     */
    default List<BackedUpFile> copy(List<Disk> disks, DiskCopy copier) throws BackupException, IOException {
        List<BackedUpFile> files = new ArrayList<>();
        for (Disk disk : disks) {
            files.addAll(copier.copy(disk));
        }
        return files;
    }

    /**
     * The backup failed after {@link #putBack}: takes back what the hold left in the hypervisor for
     * the backup's sake ({@code live}: the checkpoint taken with it, which no backup would name).
     */
    default void discard() {
    }

    /** The guest's downtime when the mode knows it better than the time from hold to put back. */
    default Optional<Downtime> downtime() {
        return Optional.empty();
    }

    /** Copies one disk's image chain into the backup: its top image first, then those below it. */
    @FunctionalInterface
    interface DiskCopy {
        /**
         * @param readFrom where each image of the chain is read from: itself, or its stable copy
         *                 (snapshot-dm reads them from LVM snapshots); the manifest names the image itself
         */
        List<BackedUpFile> copy(Disk disk, UnaryOperator<Path> readFrom) throws IOException;

        default List<BackedUpFile> copy(Disk disk) throws IOException {
            return copy(disk, UnaryOperator.identity());
        }
    }

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
