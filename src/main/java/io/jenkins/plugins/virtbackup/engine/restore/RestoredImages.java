package io.jenkins.plugins.virtbackup.engine.restore;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.copy.CopyCancelledException;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Writes a plan's disks. Each image is written under a hidden temporary name beside its
 * destination ({@code .NAME.virt-backup-partial}) and gets its name only once every disk is
 * written: a restore killed on the way never leaves an image that looks complete.
 */
final class RestoredImages {
    static final String PARTIAL_SUFFIX = ".virt-backup-partial";

    private RestoredImages() {
    }

    /** Fails before anything is written when a destination exists: a restore never overwrites. */
    static void requireFree(RestorePlan plan) throws BackupException {
        for (RestorePlan.PlannedDisk disk : plan.disks()) {
            if (Files.exists(disk.destination())) {
                throw new BackupException(ExitStatus.RESTORE_TARGET_EXISTS, "disk " + disk.target() + ": "
                        + disk.destination() + " exists already; a restore never overwrites (remove it, or give "
                        + "--disk-dir or --name); nothing was changed");
            }
        }
    }

    static void write(RestorePlan plan, ImageFlattener flattener, RestoreUndo undo, BooleanSupplier cancelled,
                      BackupLog log) throws BackupException {
        List<Path> written = new ArrayList<>();
        try {
            for (RestorePlan.PlannedDisk disk : plan.disks()) {
                undo.createFolders(disk.destination().getParent());
                Path partial = partialPath(disk.destination());
                if (Files.deleteIfExists(partial)) {
                    log.notice("removed " + partial + ", left by an earlier restore that did not finish");
                }
                undo.created(partial);
                log.detail("disk " + disk.target() + ": " + disk.image() + " -> " + disk.destination() + " ("
                        + disk.format() + ")");
                flattener.flatten(disk.image(), disk.imageFormat(), partial, disk.format(), cancelled,
                        percent -> log.progress("disk " + disk.target() + ": " + percent + "%"));
                log.progressDone();
                written.add(partial);
            }
            for (int i = 0; i < written.size(); i++) {
                Path destination = plan.disks().get(i).destination();
                Files.move(written.get(i), destination);  // no REPLACE_EXISTING: never over a file made meanwhile
                undo.created(destination);
                BackupDirectory.syncDirectory(destination.getParent());
            }
        } catch (CopyCancelledException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "restore stopped: " + e.getMessage(), e);
        } catch (FileAlreadyExistsException e) {
            throw new BackupException(ExitStatus.RESTORE_TARGET_EXISTS, e.getFile() + " appeared during the restore; "
                    + "it was left alone and the restore undone", e);
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot write the restored disks: "
                    + BackupDirectory.describe(e), e);
        }
    }

    static Path partialPath(Path destination) {
        return destination.resolveSibling("." + destination.getFileName() + PARTIAL_SUFFIX);
    }
}
