package io.jenkins.plugins.virtbackup.engine.incremental;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * How much of each disk a backup holds ({@code -l, --level}). Only {@code live} mode of a running
 * domain keeps a chain of checkpoints, so only it can take the partial levels.
 */
public enum BackupLevel {
    /** Every allocated block: a backup that stands alone. */
    FULL("full"),
    /** What changed since the newest backup of the chain; its parent is that backup. */
    INC("inc"),
    /** What changed since the chain's full backup; its parent is that full backup. */
    DIFF("diff"),
    /** {@link #INC} when the chain can be extended, otherwise {@link #FULL}, saying why. */
    AUTO("auto");

    private final String cliName;

    BackupLevel(String cliName) {
        this.cliName = cliName;
    }

    /** The name on the command line, in the manifest and in the Jenkins forms. */
    public String cliName() {
        return cliName;
    }

    /** True for the levels that only hold what changed since a parent backup. */
    public boolean needsParent() {
        return this == INC || this == DIFF;
    }

    public static Optional<BackupLevel> fromCliName(String name) {
        return Arrays.stream(values()).filter(l -> l.cliName.equals(name)).findFirst();
    }

    public static String allCliNames() {
        return Arrays.stream(values()).map(BackupLevel::cliName).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return cliName;
    }
}
