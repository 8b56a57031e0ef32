package io.jenkins.plugins.virtbackup.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * {@code snapshot-libvirt} mode: a live external snapshot puts each copied disk on a temporary
 * overlay (and saves RAM into the backup), so the images below are stable and are copied while the
 * guest runs on; then each overlay is merged back with a block commit and pivot, and deleted.
 * The domain ends on its original images: an overlay never stays behind unnoticed.
 */
final class SnapshotHold implements GuestHold {
    static final String OVERLAY_SUFFIX = ".virt-backup-overlay-";
    private static final int PIVOT_ATTEMPTS = 3;
    private static final Duration COMMIT_TIMEOUT = Duration.ofMinutes(10);

    private final VirtualMachine vm;
    private final String name;
    private final List<Disk> disks;
    private final Path memoryFile;
    private final BackupLog log;
    private final RecoveryJournal journal;
    private final Map<String, Path> overlays = new LinkedHashMap<>();
    private final Map<String, RecoveryJournal.Undo> undo = new LinkedHashMap<>();
    private long downtime = -1;
    private boolean onOverlays;

    /** @param memoryFile where RAM goes, or null for a disk-only snapshot */
    SnapshotHold(VirtualMachine vm, String name, List<Disk> disks, Path memoryFile, BackupLog log,
                 RecoveryJournal journal) {
        this.vm = vm;
        this.name = name;
        this.disks = disks;
        this.memoryFile = memoryFile;
        this.log = log;
        this.journal = journal;
        String stamp = Long.toString(Instant.now().getEpochSecond());
        for (Disk disk : disks) {
            Path overlay = Path.of(disk.source() + OVERLAY_SUFFIX + stamp);
            overlays.put(disk.target(), overlay);
            undo.put(disk.target(), new RecoveryJournal.Undo(RecoveryJournal.Undo.MERGE, Map.of(
                    "target", disk.target(), "image", disk.source(), "overlay", overlay.toString())));
        }
    }

    @Override
    public synchronized void hold() throws BackupException {
        log.detail("creating a live external snapshot of domain '" + name + "' (overlays " + overlays.values()
                + (memoryFile == null ? ", disks only)" : ", RAM to " + memoryFile + ")"));
        for (RecoveryJournal.Undo step : undo.values()) {
            Journaling.willDo(journal, step);
        }
        long started = System.nanoTime();
        try {
            long reported = vm.createExternalSnapshot(overlays, memoryFile);
            onOverlays = true;
            log.detail("snapshot of domain '" + name + "' created: copying the images below the overlays");
            // A disk-only snapshot reports no downtime: the call's duration is its upper bound.
            downtime = reported >= 0 ? reported : Duration.ofNanos(System.nanoTime() - started).toMillis();
        } catch (HypervisorException e) {
            // Atomic: on failure no disk moved to an overlay. Check rather than trust.
            onOverlays = anyDiskOnOverlay();
            if (!onOverlays) {
                deleteOverlayFiles();
                for (RecoveryJournal.Undo step : undo.values()) {
                    Journaling.undone(journal, step, log);
                }
            }
            throw new BackupException(ExitStatus.BACKUP_FAILED,
                    "cannot snapshot domain '" + name + "': " + e.getMessage(), e);
        }
    }

    @Override
    public OptionalLong downtimeMillis() {
        return downtime >= 0 ? OptionalLong.of(downtime) : OptionalLong.empty();
    }

    @Override
    public synchronized void putBack() throws BackupException {
        if (!onOverlays) {
            return;
        }
        for (Disk disk : disks) {
            commitWithRetries(disk);
        }
        onOverlays = false;
    }

    private void commitWithRetries(Disk disk) throws BackupException {
        Path overlay = overlays.get(disk.target());
        HypervisorException last = null;
        for (int attempt = 1; attempt <= PIVOT_ATTEMPTS; attempt++) {
            try {
                if (!onOverlay(disk)) {
                    break;
                }
                log.detail("merging " + overlay + " back into " + disk.source() + " (attempt " + attempt + ")");
                vm.commitActiveOverlay(disk.target(), COMMIT_TIMEOUT);
            } catch (HypervisorException e) {
                last = e;
                log.warning("merging the overlay of disk " + disk.target() + " failed: " + e.getMessage());
            }
        }
        try {
            if (onOverlay(disk)) {
                throw new BackupException(ExitStatus.VM_NOT_RESTORED, "domain '" + name + "' still writes disk "
                        + disk.target() + " to the overlay " + overlay + " (" + (last == null ? "merge failed"
                        : last.getMessage()) + "); merge it with: virsh blockcommit '" + name + "' "
                        + disk.target() + " --active --pivot, then delete " + overlay, last);
            }
            Files.deleteIfExists(overlay);
            Journaling.undone(journal, undo.get(disk.target()), log);
        } catch (HypervisorException | IOException e) {
            throw new BackupException(ExitStatus.VM_NOT_RESTORED, "cannot tell whether domain '" + name
                    + "' is back on " + disk.source() + " for disk " + disk.target() + ": " + e.getMessage()
                    + "; check with: virsh domblklist '" + name + "'", e);
        }
    }

    private boolean onOverlay(Disk disk) throws HypervisorException {
        return writesTo(vm, disk.target(), overlays.get(disk.target()));
    }

    /** Whether disk {@code target} of the domain now writes to {@code overlay}; recovery asks this too. */
    static boolean writesTo(VirtualMachine vm, String target, Path overlay) throws HypervisorException {
        return vm.disks().stream().anyMatch(d -> d.target().equals(target)
                && d.source() != null && Path.of(d.source()).equals(overlay));
    }

    /** Removes overlay files a failed snapshot may have created; their names are ours alone. */
    private void deleteOverlayFiles() {
        for (Path overlay : overlays.values()) {
            try {
                Files.deleteIfExists(overlay);
            } catch (IOException e) {
                log.warning("cannot delete " + overlay + ": " + e.getMessage());
            }
        }
    }

    private boolean anyDiskOnOverlay() {
        try {
            for (Disk disk : disks) {
                if (onOverlay(disk)) {
                    return true;
                }
            }
            return false;
        } catch (HypervisorException e) {
            return true;  // cannot tell: try to merge back, which checks again disk by disk
        }
    }
}
