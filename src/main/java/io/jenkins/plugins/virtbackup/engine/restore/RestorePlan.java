package io.jenkins.plugins.virtbackup.engine.restore;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.restore.DefinitionChanges.RestoredImage;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where each backed-up disk goes, and what becomes of the disks the backup does not hold.
 *
 * @param disks      the disks to write, in the backup's order
 * @param notInBackup the definition's writable disks the backup does not hold (skipped, or left out
 *                   by a BLKDEV list), by target, with their source: a copy must not keep them
 */
record RestorePlan(List<PlannedDisk> disks, Map<String, String> notInBackup) {

    /** Formats a restored disk keeps; any other becomes qcow2. */
    private static final Set<String> KEPT_FORMATS = Set.of("raw", "qcow2");

    /**
     * One disk to write.
     *
     * @param target      the disk's target
     * @param image       its top file in the backup
     * @param imageFormat that file's format
     * @param destination where the standalone image goes
     * @param format      the destination's format: the definition's, so that only its path changes
     */
    record PlannedDisk(String target, Path image, String imageFormat, Path destination, String format) {
    }

    /**
     * @param name    the restored domain's name, which names its disks when they do not go back in place
     * @param diskDir where the disks go; null: back in place, or, for a new name, beside the originals
     */
    static RestorePlan of(BackupToRestore backup, List<Disk> defined, String name, Path diskDir, boolean newName)
            throws BackupException {
        Map<String, Disk> byTarget = new LinkedHashMap<>();
        defined.forEach(disk -> byTarget.put(disk.target(), disk));
        List<PlannedDisk> disks = new ArrayList<>();
        Set<String> restored = new LinkedHashSet<>();
        for (BackedUpFile file : backup.disks()) {
            Disk disk = byTarget.get(file.target());
            if (disk == null) {
                throw new BackupException(ExitStatus.VERIFY_FAILED, "disk " + file.target() + " of the manifest is not"
                        + " in the backup's domain definition; nothing was restored");
            }
            String format = KEPT_FORMATS.contains(disk.format()) ? disk.format() : "qcow2";
            disks.add(new PlannedDisk(file.target(), backup.file(file), file.format(),
                    destination(disk, format, name, diskDir, newName), format));
            restored.add(file.target());
        }
        Map<String, String> notInBackup = new LinkedHashMap<>();
        for (Disk disk : defined) {
            if (!restored.contains(disk.target()) && !disk.readOnly()) {
                notInBackup.put(disk.target(), disk.source() == null ? "(no source)" : disk.source());
            }
        }
        return new RestorePlan(disks, notInBackup);
    }

    private static Path destination(Disk disk, String format, String name, Path diskDir, boolean newName)
            throws BackupException {
        if (diskDir == null && !"file".equals(disk.type())) {
            throw new BackupException(ExitStatus.USAGE, "disk " + disk.target() + " was the " + disk.type()
                    + " device " + disk.source() + ", which a restore does not write into: give --disk-dir "
                    + "to restore it as a file, or write it yourself with qemu-img convert");
        }
        if (diskDir == null && !newName) {
            return Path.of(disk.source());
        }
        Path folder = diskDir != null ? diskDir : Path.of(disk.source()).toAbsolutePath().getParent();
        return folder.resolve(name + "-" + disk.target() + "." + format);
    }

    /** The images the definition is to name, by target. */
    Map<String, RestoredImage> images() {
        Map<String, RestoredImage> images = new LinkedHashMap<>();
        disks.forEach(disk -> images.put(disk.target(), new RestoredImage(disk.destination(), disk.format())));
        return images;
    }

    /** The folder of the first restored disk: where a copy's device files go. */
    Path firstDiskFolder() {
        return disks.isEmpty() ? null : disks.get(0).destination().getParent();
    }
}
