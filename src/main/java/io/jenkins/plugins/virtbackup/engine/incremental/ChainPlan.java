package io.jenkins.plugins.virtbackup.engine.incremental;

import io.jenkins.plugins.virtbackup.engine.store.Increment;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a {@code live} backup will be: its level, and for an inc or diff the backup it builds on and
 * the checkpoint whose changes it copies.
 *
 * @param level           full, inc or diff
 * @param parentFolder    the parent backup's folder name, a sibling of the new one; null for a full
 * @param parent          the parent backup's manifest; null for a full
 * @param incrementalFrom the checkpoint the job exports changes since; null for a full
 */
public record ChainPlan(BackupLevel level, String parentFolder, Manifest parent, String incrementalFrom) {

    public static final ChainPlan FULL = new ChainPlan(BackupLevel.FULL, null, null, null);

    /**
     * Disk {@code target}'s backup files as the new backup records them: its own {@code fileName},
     * then the parent's chain, seen from the new backup's folder.
     */
    public Increment.DiskChain diskChain(String target, String fileName, long size) {
        List<String> files = new ArrayList<>();
        files.add(fileName);
        if (parent != null) {
            List<String> parentFiles = parent.increment().disks().get(target).files();
            files.add("../" + parentFolder + "/" + parentFiles.get(0));
            files.addAll(parentFiles.subList(1, parentFiles.size()));
        }
        return new Increment.DiskChain(size, files);
    }

    /** The qcow2 backing file of disk {@code target}'s new file: the parent's, relative; null for a full. */
    public String backingFile(String target) {
        return parent == null ? null : diskChain(target, "", 0).files().get(1);
    }

    /** The new backup's place in the chain, with the checkpoint taken with it. */
    public Increment increment(Increment.Checkpoint checkpoint, Map<String, Increment.DiskChain> disks) {
        return new Increment(level, parentFolder, checkpoint, disks);
    }
}
