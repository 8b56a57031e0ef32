package io.jenkins.plugins.virtbackup.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * Before a running domain is touched: can the hypervisor write where the mode needs it to? A
 * failure found here costs nothing; found after a snapshot or a save, it costs a recovery.
 */
final class HypervisorAccess {
    private HypervisorAccess() {
    }

    static void check(BackupMode mode, String uri, DiskSelection selection, Path backup) throws BackupException {
        if (mode == BackupMode.SNAPSHOT_LIBVIRT) {
            for (Disk disk : selection.toCopy()) {
                Path folder = Path.of(disk.source()).toAbsolutePath().getParent();
                if (!Files.isWritable(folder)) {
                    throw new BackupException(ExitStatus.BACKUP_FAILED, "snapshot-libvirt puts a temporary overlay "
                            + "beside each image, but " + folder + " (disk " + disk.target() + ") is not writable");
                }
            }
        }
        if (mode == BackupMode.LIVE && qemuRunsAsAnotherUser(uri)) {
            checkTraversable(backup.getParent());
        }
    }

    /** qemu:///system runs QEMU as its own user (libvirt-qemu on Debian), not as the caller. */
    private static boolean qemuRunsAsAnotherUser(String uri) {
        return uri.startsWith("qemu") && uri.endsWith("/system");
    }

    /** In live mode QEMU writes the copies: every folder above the backup must let it pass. */
    private static void checkTraversable(Path folder) throws BackupException {
        for (Path p = folder.toAbsolutePath(); p != null; p = p.getParent()) {
            try {
                Set<PosixFilePermission> mode = Files.getPosixFilePermissions(p);
                if (!mode.contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    throw new BackupException(ExitStatus.BACKUP_FAILED, "in live mode QEMU, running as its own "
                            + "user, writes the copies, but it cannot pass " + p + " (no search permission for other "
                            + "users); choose a backup directory below folders with mode o+x");
                }
            } catch (IOException | UnsupportedOperationException e) {
                return;  // cannot tell here: libvirt will say
            }
        }
    }
}
