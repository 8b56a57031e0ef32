package io.jenkins.plugins.virtbackup.engine;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A backup job in pull mode, as libvirt takes it: the hypervisor exports each disk's point in time
 * over NBD and keeps the guest's writes meanwhile in scratch files; a checkpoint is taken in the
 * same instant, so that the next backup can ask for what changed since.
 *
 * @param targets         the disks backed up, by target
 * @param scratchFolder   where the hypervisor keeps each disk's scratch file ({@code TARGET.scratch})
 *                        and, on this machine, the NBD socket; null when the hypervisor is another
 *                        machine, which then picks the place itself, beside the disk's image
 * @param incrementalFrom the checkpoint whose changes are exported, or null for a full backup
 * @param checkpointName  the checkpoint to create with the job; null when no disk can carry its bitmap
 * @param wholeDisks      disks exported whole even in an incremental, and left out of the checkpoint:
 *                        libvirt keeps bitmaps in qcow2 images only
 */
public record PullBackupRequest(List<String> targets, Path scratchFolder, String incrementalFrom,
                                String checkpointName, Set<String> wholeDisks) {
    public PullBackupRequest {
        targets = List.copyOf(targets);
        wholeDisks = Set.copyOf(wholeDisks);
    }

    /** The NBD server's unix socket, or null for TCP on the hypervisor's host. */
    public Path socket() {
        return scratchFolder == null ? null : scratchFolder.resolve("nbd.sock");
    }

    /** Disk {@code target}'s scratch file, or null to let the hypervisor choose. */
    public Path scratchFile(String target) {
        return scratchFolder == null ? null : scratchFolder.resolve(target + ".scratch");
    }
}
