package io.jenkins.plugins.virtbackup.engine;

import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import java.nio.file.Path;

/**
 * What a successful run hands back: where the backup is, and what its manifest says.
 *
 * @param directory the backup's folder, under its final name
 */
public record CompletedBackup(Path directory, Manifest manifest) {
}
