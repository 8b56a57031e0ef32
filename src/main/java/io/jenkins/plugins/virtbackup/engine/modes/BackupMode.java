package io.jenkins.plugins.virtbackup.engine.modes;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** How a running domain is held still while its disks are copied. */
public enum BackupMode {
    SHUTDOWN("shutdown", true),
    SUSPEND("suspend", true),
    SNAPSHOT_LIBVIRT("snapshot-libvirt", true),
    SNAPSHOT_DM("snapshot-dm", true),
    /** libvirt's backup API in pull mode, with checkpoints: disks only, no overlay in the definition; levels. */
    LIVE("live", true);

    private final String cliName;
    private final boolean available;

    BackupMode(String cliName, boolean available) {
        this.cliName = cliName;
        this.available = available;
    }

    /** The name used on the command line and in the manifest. */
    public String cliName() {
        return cliName;
    }

    /** False for modes the man page names but this version cannot run yet. */
    public boolean isAvailable() {
        return available;
    }

    /**
     * Whether {@code --quiesce} means something in this mode: only the live modes take their point in
     * time while the guest runs, so only they can freeze its file systems for that moment.
     */
    public boolean canQuiesce() {
        return this == SNAPSHOT_LIBVIRT || this == LIVE;
    }

    /** Whether this mode puts temporary overlays into the overlay folder ({@code --overlay-dir}). */
    public boolean usesOverlays() {
        return this == SNAPSHOT_LIBVIRT;
    }

    public static Optional<BackupMode> fromCliName(String name) {
        return Arrays.stream(values()).filter(m -> m.cliName.equals(name)).findFirst();
    }

    public static String allCliNames() {
        return Arrays.stream(values()).map(BackupMode::cliName).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return cliName;
    }
}
