package io.jenkins.plugins.virtbackup.engine.modes;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.copy.Sizes;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * Before a running domain is touched: can the hypervisor write where the mode needs it to? A
 * failure found here costs nothing; found after a snapshot or a save, it costs a recovery.
 */
public final class HypervisorAccess {
    private HypervisorAccess() {
    }

    /** The least free space in the overlay folder: the guest's writes land there while its disks are copied. */
    static final long OVERLAY_MIN_FREE = 1L << 30;

    /**
     * @param scratchFolder where {@code live} mode's job keeps the guest's writes and its NBD socket
     */
    public static void check(BackupMode mode, String uri, Path overlayDir, Path scratchFolder) throws BackupException {
        if (mode == BackupMode.SNAPSHOT_LIBVIRT) {
            checkOverlayFolder(overlayDir, qemuRunsAsAnotherUser(uri));
        }
        if (mode == BackupMode.LIVE && qemuRunsAsAnotherUser(uri)) {
            checkTraversable(scratchFolder.getParent(), "in live mode QEMU, running as its own user, keeps the "
                    + "guest's writes during the backup in scratch files and serves the disks on a socket there "
                    + "(see --state-dir)");
        }
    }

    /**
     * The overlays live on persistent storage of the admin's choosing, never beside a block device
     * in /dev (RAM): the folder must exist (it is made), be writable, have room, and let QEMU in.
     */
    private static void checkOverlayFolder(Path folder, boolean qemuIsAnotherUser) throws BackupException {
        try {
            if (!Files.isDirectory(folder)) {
                Files.createDirectories(folder);
                Files.setPosixFilePermissions(folder, BackupDirectory.DIRECTORY_MODE);
            }
            if (!Files.isWritable(folder)) {
                throw new BackupException(ExitStatus.BACKUP_FAILED, "snapshot-libvirt puts its temporary overlays "
                        + "in " + folder + ", which is not writable (see --overlay-dir)");
            }
            long free = Files.getFileStore(folder).getUsableSpace();
            if (free < OVERLAY_MIN_FREE) {
                throw new BackupException(ExitStatus.BACKUP_FAILED, "snapshot-libvirt needs at least "
                        + Sizes.human(OVERLAY_MIN_FREE) + " free in the overlay folder " + folder + " for the guest's "
                        + "writes during the copy, but it has " + Sizes.human(free) + " (see --overlay-dir)");
            }
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot use the overlay folder " + folder + ": "
                    + BackupDirectory.describe(e) + " (see --overlay-dir)", e);
        }
        if (qemuIsAnotherUser) {
            checkTraversable(folder, "QEMU, running as its own user, writes the snapshot overlays");
        }
    }

    /** qemu:///system runs QEMU as its own user (libvirt-qemu on Debian), not as the caller. */
    private static boolean qemuRunsAsAnotherUser(String uri) {
        return uri.startsWith("qemu") && uri.endsWith("/system");
    }

    /** QEMU writes files there: every folder down to {@code folder} must let it pass. */
    private static void checkTraversable(Path folder, String why) throws BackupException {
        for (Path p = folder.toAbsolutePath(); p != null; p = p.getParent()) {
            try {
                Set<PosixFilePermission> mode = Files.getPosixFilePermissions(p);
                if (!mode.contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    throw new BackupException(ExitStatus.BACKUP_FAILED, why + ", but it cannot pass " + p
                            + " (no search permission for other users); choose a folder below folders with mode o+x");
                }
            } catch (NoSuchFileException e) {
                continue;  // made later by the run, with a mode that lets QEMU in: the folders above decide
            } catch (IOException | UnsupportedOperationException e) {
                return;  // cannot tell here: libvirt will say
            }
        }
    }
}
