package io.jenkins.plugins.virtbackup.engine.modes;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import io.jenkins.plugins.virtbackup.engine.image.FileIdentity;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.recovery.Journaling;
import io.jenkins.plugins.virtbackup.engine.recovery.RecoveryJournal;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code snapshot-libvirt} mode: a live external snapshot puts each copied disk on a temporary
 * overlay in the overlay folder (and saves RAM into the backup), so the disk's images are stable
 * and are copied while the guest runs on; then each overlay is merged back into the disk's own top
 * image, and nothing below it, with a shallow block commit and pivot, and deleted. Afterwards the
 * domain must be exactly on the chain it was found on, with the images below its top untouched
 * (other linked clones may share them); anything else ends the run with exit 5 and what to do.
 */
public final class SnapshotLibvirtHold implements GuestHold {
    static final String OVERLAY_SUFFIX = ".virt-backup-overlay-";
    private static final int PIVOT_ATTEMPTS = 3;

    private final VirtualMachine vm;
    private final String name;
    private final List<Disk> disks;
    private final Map<String, BackingChain> chains;
    private final Path memoryFile;
    private final BackupLog log;
    private final RecoveryJournal journal;
    private final Map<String, Path> overlays = new LinkedHashMap<>();
    private final Map<String, RecoveryJournal.Undo> undo = new LinkedHashMap<>();
    private final Map<String, List<FileIdentity>> below = new LinkedHashMap<>();
    private Downtime downtime;
    private boolean onOverlays;

    /**
     * @param chains     each disk's image chain as found, by target
     * @param overlayDir where the overlays go
     * @param memoryFile where RAM goes, or null for a disk-only snapshot
     */
    public SnapshotLibvirtHold(VirtualMachine vm, String name, List<Disk> disks, Map<String, BackingChain> chains,
                               Path overlayDir, Path memoryFile, BackupLog log, RecoveryJournal journal) {
        this.vm = vm;
        this.name = name;
        this.disks = disks;
        this.chains = chains;
        this.memoryFile = memoryFile;
        this.log = log;
        this.journal = journal;
        String stamp = Long.toString(Instant.now().getEpochSecond());
        for (Disk disk : disks) {
            overlays.put(disk.target(), overlayDir.resolve(name + "-" + disk.target() + OVERLAY_SUFFIX + stamp));
        }
    }

    @Override
    public synchronized void hold() throws BackupException {
        recordChains();
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
            downtime = Downtime.reportedOr(reported, System.nanoTime() - started);
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

    /** What each disk's chain below its top image is now: after the merge it must be the same. */
    private void recordChains() throws BackupException {
        try {
            for (Disk disk : disks) {
                List<FileIdentity> identities = FileIdentity.of(chains.get(disk.target()).below().stream()
                        .map(BackingChain.Image::path).toList());
                below.put(disk.target(), identities);
                Map<String, String> details = new LinkedHashMap<>();
                details.put("target", disk.target());
                details.put("image", disk.source());
                details.put("format", disk.format());
                details.put("overlay", overlays.get(disk.target()).toString());
                details.put("below", FileIdentity.toJournal(identities));
                undo.put(disk.target(), new RecoveryJournal.Undo(RecoveryJournal.Undo.MERGE, details));
            }
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot read the images of domain '" + name
                    + "': " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<Downtime> downtime() {
        return Optional.ofNullable(downtime);
    }

    @Override
    public synchronized void putBack() throws BackupException {
        if (!onOverlays) {
            return;
        }
        for (Disk disk : disks) {
            mergeWithRetries(disk);
        }
        onOverlays = false;
    }

    private void mergeWithRetries(Disk disk) throws BackupException {
        Path overlay = overlays.get(disk.target());
        HypervisorException last = null;
        for (int attempt = 1; attempt <= PIVOT_ATTEMPTS; attempt++) {
            try {
                if (!onOverlay(disk)) {
                    break;
                }
                log.detail("merging " + overlay + " back into " + disk.source() + " (attempt " + attempt + ")");
                OverlayMerge.merge(vm, disk.target(), OverlayMerge.TIMEOUT);
            } catch (HypervisorException e) {
                last = e;
                log.warning("merging the overlay of disk " + disk.target() + " failed: " + e.getMessage());
            }
        }
        try {
            if (onOverlay(disk)) {
                throw new BackupException(ExitStatus.VM_NOT_RESTORED, "domain '" + name + "' still writes disk "
                        + disk.target() + " to the overlay " + overlay + " (" + (last == null ? "merge failed"
                        : last.getMessage()) + "); merge it into its own image only with: virsh blockcommit '" + name
                        + "' " + disk.target() + " --active --shallow --pivot, then delete " + overlay, last);
            }
            Optional<String> changed = changesToChain(vm, name, disk.target(), Path.of(disk.source()), disk.format(),
                    below.get(disk.target()));
            if (changed.isPresent()) {
                throw new BackupException(ExitStatus.VM_NOT_RESTORED, changed.get());
            }
            Files.deleteIfExists(overlay);
            Journaling.undone(journal, undo.get(disk.target()), log);
        } catch (HypervisorException | IOException e) {
            throw new BackupException(ExitStatus.VM_NOT_RESTORED, "cannot tell whether domain '" + name
                    + "' is back on " + disk.source() + " for disk " + disk.target() + ": " + e.getMessage()
                    + "; check with: virsh domblklist '" + name + "'", e);
        }
    }

    /**
     * After a merge: whether disk {@code target} is back on its image {@code image} with the same
     * images below it, none of them written. Empty when it is; else what differs and what to do.
     * Recovery asks this too.
     */
    public static Optional<String> changesToChain(VirtualMachine vm, String domain, String target, Path image,
                                                  String format, List<FileIdentity> belowBefore) throws HypervisorException, IOException {
        Optional<Disk> now = vm.disks().stream().filter(d -> d.target().equals(target)).findFirst();
        String source = now.map(Disk::source).orElse(null);
        List<String> problems = new ArrayList<>();
        if (source == null || !Path.of(source).equals(image)) {
            problems.add("the domain now uses " + source + " instead of " + image);
        }
        List<Path> belowNow;
        try {
            belowNow = BackingChain.of(target, image, format).below().stream().map(BackingChain.Image::path).toList();
        } catch (BackupException e) {
            belowNow = List.of();
            problems.add(e.getMessage());
        }
        List<Path> belowThen = belowBefore.stream().map(i -> Path.of(i.path())).toList();
        if (!belowNow.equals(belowThen)) {
            problems.add(image + " now reads through " + belowNow + " instead of " + belowThen);
        }
        for (String change : FileIdentity.changesSince(belowBefore)) {
            problems.add("the image " + change + " below it changed");
        }
        if (problems.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("after merging its overlay, disk " + target + " of domain '" + domain
                + "' is not on the image chain it was found on: " + String.join("; ", problems)
                + ". Shut the domain down (virsh shutdown '" + domain + "'), check its images with: qemu-img info "
                + "--backing-chain " + image + ", point disk " + target + " back at " + image + " (virsh edit '"
                + domain + "')" + (belowThen.isEmpty() ? "" : ", and start no other domain whose disks read "
                + "through " + belowThen + " until those images are checked"));
    }

    private boolean onOverlay(Disk disk) throws HypervisorException {
        return writesTo(vm, disk.target(), overlays.get(disk.target()));
    }

    /** Whether disk {@code target} of the domain now writes to {@code overlay}; recovery asks this too. */
    public static boolean writesTo(VirtualMachine vm, String target, Path overlay) throws HypervisorException {
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
