package io.jenkins.plugins.virtbackup.engine.restore;

import java.nio.file.Path;

/**
 * What {@code virt-backup restore} is asked for.
 *
 * @param backup  the backup directory to restore
 * @param name    a new name: a copy beside the original, with a new UUID and new MAC addresses; null
 *                restores the original (disaster recovery)
 * @param diskDir where the disks go, named NAME-TARGET.FORMAT; null: back to their original paths, or
 *                for a copy beside the originals
 * @param start   start the domain: from the backup's RAM when it has one and keeps its identity
 */
public record RestoreRequest(Path backup, String name, Path diskDir, boolean start) {
}
