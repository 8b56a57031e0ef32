package io.jenkins.plugins.virtbackup.engine.restore;

import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * What {@code virt-backup restore --test} is asked for.
 *
 * @param backup         the backup directory to test
 * @param scratchParent  where the clone's temporary folder is made
 * @param timeout        how long the clone has to show life
 * @param consolePattern the console line that counts as life; null: any line
 * @param proof          the criterion to hold the clone to; null: the strongest its definition allows
 */
public record RestoreTestRequest(Path backup, Path scratchParent, Duration timeout, Pattern consolePattern,
                                 LifeProof proof) {
}
