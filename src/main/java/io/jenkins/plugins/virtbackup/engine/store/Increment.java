package io.jenkins.plugins.virtbackup.engine.store;

import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a backup sits in a chain of backups that build on each other: the manifest's {@code level},
 * {@code parent}, {@code checkpoint} and {@code backupChains}. A backup of any mode but {@code live}
 * stands alone: {@link #STANDALONE}.
 *
 * @param level      {@link BackupLevel#FULL}, {@link BackupLevel#INC} or {@link BackupLevel#DIFF}; never auto
 * @param parent     the folder name of the backup this one builds on, a sibling of its own; null for a full
 * @param checkpoint the libvirt checkpoint taken with this backup, which the next inc or diff starts
 *                   from; null when the backup took none
 * @param disks      each disk's chain of backup files, by target; empty for a backup that stands alone
 */
public record Increment(BackupLevel level, String parent, Checkpoint checkpoint, Map<String, DiskChain> disks) {

    /** A backup whose files need no other backup, and which no incremental can build on. */
    public static final Increment STANDALONE = new Increment(BackupLevel.FULL, null, null, Map.of());

    public Increment {
        if (level == BackupLevel.AUTO) {
            throw new IllegalArgumentException("a backup's level is full, inc or diff, never auto");
        }
        if (level.needsParent() != (parent != null)) {
            throw new IllegalArgumentException("level " + level + (parent == null ? " needs a" : " has no")
                    + " parent");
        }
        disks = Collections.unmodifiableMap(new LinkedHashMap<>(disks));
    }

    /**
     * A libvirt checkpoint, kept whole so that it can be redefined when libvirt lost its metadata.
     *
     * @param name its name, which starts with {@code virt-backup-}: we never touch others
     * @param xml  what {@code virsh checkpoint-dumpxml --no-domain} printed when it was taken
     */
    public record Checkpoint(String name, String xml) {
    }

    /**
     * One disk's backup files, from this backup's own down to the full backup's.
     *
     * @param size  the disk's virtual size in bytes: a resize breaks the chain
     * @param files paths relative to this backup's folder: its own file ({@code vda.qcow2}) first,
     *              then {@code ../PARENT/vda.qcow2} and so on; each is the qcow2 backing file of the
     *              one before it
     */
    public record DiskChain(long size, List<String> files) {
        public DiskChain {
            files = List.copyOf(files);
        }
    }

    Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("level", level.cliName());
        json.put("parent", parent);
        if (checkpoint == null) {
            json.put("checkpoint", null);
        } else {
            Map<String, Object> taken = new LinkedHashMap<>();
            taken.put("name", checkpoint.name());
            taken.put("xml", checkpoint.xml());
            json.put("checkpoint", taken);
        }
        Map<String, Object> chains = new LinkedHashMap<>();
        disks.forEach((target, chain) -> {
            Map<String, Object> disk = new LinkedHashMap<>();
            disk.put("size", chain.size());
            disk.put("files", chain.files());
            chains.put(target, disk);
        });
        json.put("backupChains", chains);
        return json;
    }
}
