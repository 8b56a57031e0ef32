package io.jenkins.plugins.virtbackup.engine;

import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What one run is asked to do.
 *
 * @param domain          the domain's name
 * @param disks           disks to copy, by target or source path; empty means every disk
 * @param mode            how a running domain is held still
 * @param backupRoot      the directory under which {@code DOMAIN/TIMESTAMP/} is made
 * @param shutdownTimeout how long {@code shutdown} mode waits for the guest to power off
 * @param forceOff        in {@code shutdown} mode, pull the plug when the timeout passes
 * @param quiesce         in the live modes, freeze the guest's file systems through its agent
 * @param overlayDir      where {@code snapshot-libvirt} puts its temporary overlays; null for the
 *                        default, {@code overlays/} in the state directory
 * @param readBack        read every written chunk back from disk and compare its digest before the
 *                        backup gets its final name ({@code --verify}); off by default, as in peers
 * @param level           full, or only what changed since a parent backup ({@code --level})
 * @param compress        write every disk image as a qcow2 whose data clusters are zstd-compressed
 *                        ({@code --compress}); the definition and the RAM state stay as they are
 * @param snapshotBytes   the size of each LVM snapshot in {@code snapshot-dm} mode ({@code --snapshot-size});
 *                        0 for the default, drawn from the volume group's free space
 */
public record BackupRequest(String domain, List<String> disks, BackupMode mode, Path backupRoot,
                            Duration shutdownTimeout, boolean forceOff, boolean quiesce, Path overlayDir,
                            boolean readBack, BackupLevel level, boolean compress, long snapshotBytes) {

    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(300);

    public BackupRequest {
        disks = List.copyOf(disks);
    }

    /** With the default snapshot size. */
    public BackupRequest(String domain, List<String> disks, BackupMode mode, Path backupRoot,
                         Duration shutdownTimeout, boolean forceOff, boolean quiesce, Path overlayDir,
                         boolean readBack, BackupLevel level, boolean compress) {
        this(domain, disks, mode, backupRoot, shutdownTimeout, forceOff, quiesce, overlayDir, readBack, level, compress,
                0);
    }

    /** The same request with snapshots of {@code bytes} each (0: the default). */
    public BackupRequest withSnapshotSize(long bytes) {
        return new BackupRequest(domain, disks, mode, backupRoot, shutdownTimeout, forceOff, quiesce, overlayDir,
                readBack, level, compress, bytes);
    }

    /** An uncompressed backup. */
    public BackupRequest(String domain, List<String> disks, BackupMode mode, Path backupRoot,
                         Duration shutdownTimeout, boolean forceOff, boolean quiesce, Path overlayDir,
                         boolean readBack, BackupLevel level) {
        this(domain, disks, mode, backupRoot, shutdownTimeout, forceOff, quiesce, overlayDir, readBack, level, false);
    }

    /** A full backup. */
    public BackupRequest(String domain, List<String> disks, BackupMode mode, Path backupRoot,
                         Duration shutdownTimeout, boolean forceOff, boolean quiesce, Path overlayDir,
                         boolean readBack) {
        this(domain, disks, mode, backupRoot, shutdownTimeout, forceOff, quiesce, overlayDir, readBack,
                BackupLevel.FULL);
    }

    /** The same request at another level. */
    public BackupRequest withLevel(BackupLevel newLevel) {
        return new BackupRequest(domain, disks, mode, backupRoot, shutdownTimeout, forceOff, quiesce, overlayDir,
                readBack, newLevel, compress, snapshotBytes);
    }

    /** The same request, compressed or not. */
    public BackupRequest withCompression(boolean compressed) {
        return new BackupRequest(domain, disks, mode, backupRoot, shutdownTimeout, forceOff, quiesce, overlayDir,
                readBack, level, compressed, snapshotBytes);
    }

    /** The same request for another domain, every disk of it ({@code --all} asks this of each domain). */
    public BackupRequest forDomain(String otherDomain) {
        return new BackupRequest(otherDomain, List.of(), mode, backupRoot, shutdownTimeout, forceOff, quiesce,
                overlayDir, readBack, level, compress, snapshotBytes);
    }

    /** A request without read-back. */
    public BackupRequest(String domain, List<String> disks, BackupMode mode, Path backupRoot,
                         Duration shutdownTimeout, boolean forceOff, boolean quiesce, Path overlayDir) {
        this(domain, disks, mode, backupRoot, shutdownTimeout, forceOff, quiesce, overlayDir, false);
    }

    /** A request with the default overlay folder, without read-back. */
    public BackupRequest(String domain, List<String> disks, BackupMode mode, Path backupRoot,
                         Duration shutdownTimeout, boolean forceOff, boolean quiesce) {
        this(domain, disks, mode, backupRoot, shutdownTimeout, forceOff, quiesce, null);
    }
}
