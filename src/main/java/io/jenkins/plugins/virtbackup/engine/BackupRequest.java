package io.jenkins.plugins.virtbackup.engine;

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
 */
public record BackupRequest(String domain, List<String> disks, BackupMode mode, Path backupRoot,
                            Duration shutdownTimeout, boolean forceOff, boolean quiesce) {

    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(300);

    public BackupRequest {
        disks = List.copyOf(disks);
    }
}
