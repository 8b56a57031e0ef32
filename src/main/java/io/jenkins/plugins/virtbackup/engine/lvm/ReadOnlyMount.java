package io.jenkins.plugins.virtbackup.engine.lvm;

import java.util.Optional;

/**
 * The mount options under which a snapshot's file system is read without a single write. LVM
 * freezes a mounted file system while it takes the snapshot, yet a plain read-only mount may still
 * replay a journal, which writes to the snapshot (and fills its room). XFS also refuses a
 * second mount of the same UUID unless told {@code nouuid}.
 */
public final class ReadOnlyMount {
    /** Nothing on a snapshot is run or opened as a device: it holds a guest's files, not the host's. */
    private static final String HARMLESS = "nodev,nosuid,noexec";

    private ReadOnlyMount() {
    }

    /** The options for {@code fsType}, or empty when virt-backup does not know how to mount it without writing. */
    public static Optional<String> options(String fsType) {
        switch (fsType) {
            case "ext3":
            case "ext4":
                return Optional.of("ro,noload," + HARMLESS);
            case "xfs":
                return Optional.of("ro,nouuid,norecovery," + HARMLESS);
            default:
                return Optional.empty();
        }
    }

    /** For messages: the file systems whose snapshots can be mounted. */
    public static String known() {
        return "ext3, ext4, xfs";
    }
}
