package io.jenkins.plugins.virtbackup.engine.incremental;

import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;

/**
 * The checkpoints virt-backup takes: named {@value #PREFIX} and the backup folder's name, described
 * by {@link #DESCRIPTION}. Both must match before one is deleted: other tools' checkpoints are
 * never touched.
 */
public final class Checkpoints {
    public static final String PREFIX = "virt-backup-";
    public static final String DESCRIPTION = "taken by virt-backup with a backup; virt-backup deletes it";

    private Checkpoints() {
    }

    /** The checkpoint taken with the backup in folder {@code backupFolder}. */
    public static String nameFor(String backupFolder) {
        return PREFIX + backupFolder;
    }

    /**
     * After a full backup: deletes every other checkpoint of ours, oldest first. No backup builds on
     * them any more; each costs a bitmap that QEMU updates on every write of the guest.
     */
    public static void deleteOlder(VirtualMachine vm, String keep, BackupLog log) {
        try {
            for (String name : vm.checkpointNames()) {
                if (!name.equals(keep) && isOurs(vm, name)) {
                    log.detail("deleting checkpoint " + name + ": the new full backup starts a new chain");
                    vm.deleteCheckpoint(name);
                }
            }
        } catch (HypervisorException e) {
            log.warning("cannot delete the checkpoints of older backups (" + e.getMessage()
                    + "); the next full backup tries again");
        }
    }

    private static boolean isOurs(VirtualMachine vm, String name) throws HypervisorException {
        return name.startsWith(PREFIX) && vm.checkpointXml(name).contains("<description>" + DESCRIPTION);
    }
}
