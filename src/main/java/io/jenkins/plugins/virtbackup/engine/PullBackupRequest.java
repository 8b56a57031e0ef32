package io.jenkins.plugins.virtbackup.engine;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A backup job in pull mode, as libvirt takes it: the hypervisor exports each disk's point in time
 * over NBD and keeps the guest's writes meanwhile in scratch files; a checkpoint is taken in the
 * same instant, so that the next backup can ask for what changed since.
 *
 * @param scratchFiles    disk target to its scratch file, on the hypervisor's side; the disks backed up
 * @param incrementalFrom the checkpoint whose changes are exported, or null for a full backup
 * @param checkpointName  the checkpoint to create with the job; null when no disk can carry its bitmap
 * @param wholeDisks      disks exported whole even in an incremental, and left out of the checkpoint:
 *                        libvirt keeps bitmaps in qcow2 images only
 * @param socket          the unix socket of the NBD server on this machine; null when the hypervisor is
 *                        another machine, which then serves NBD over TCP on its own address
 */
public record PullBackupRequest(Map<String, Path> scratchFiles, String incrementalFrom, String checkpointName,
                                Set<String> wholeDisks, Path socket) {
    public PullBackupRequest {
        scratchFiles = Collections.unmodifiableMap(new LinkedHashMap<>(scratchFiles));
        wholeDisks = Set.copyOf(wholeDisks);
    }
}
