package io.jenkins.plugins.virtbackup.engine.lvm;

import java.util.Optional;

/**
 * The mount options under which a snapshot's file system is read without a single write. A
 * snapshot of a mounted file system looks like one that crashed: a plain read-only mount would
 * still replay its journal, which writes to the snapshot (and fills its room). XFS also refuses a
 * second mount of the same UUID unless told {@code nouuid}.
 */
public final class ReadOnlyMount {
    private ReadOnlyMount() {
    }

    /** The options for {@code fsType}, or empty when virt-backup does not know how to mount it without writing. */
    public static Optional<String> options(String fsType) {
        switch (fsType) {
            case "ext3":
            case "ext4":
                return Optional.of("ro,noload");
            case "xfs":
                return Optional.of("ro,nouuid,norecovery");
            default:
                return Optional.empty();
        }
    }

    /** For messages: the file systems whose snapshots can be mounted. */
    public static String known() {
        return "ext3, ext4, xfs";
    }
}
