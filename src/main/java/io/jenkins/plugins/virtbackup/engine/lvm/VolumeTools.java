package io.jenkins.plugins.virtbackup.engine.lvm;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What {@code snapshot-dm} asks of the host's volume manager and mount table. The engine owns this
 * seam and stays plain Java; the real commands ({@code lvs}, {@code lvcreate -s}, {@code lvremove},
 * {@code findmnt}, {@code mount}, {@code umount}) live in an adapter, whose tools' error output goes
 * to the error log. Each call but {@link #missingPrivileges} is one command: a test can record the
 * sequence.
 */
public interface VolumeTools {

    /**
     * Why this process cannot create snapshots and mount them (LVM and mount need root), or empty
     * when it can. Asked first, so that a run without the rights stops before the domain is touched.
     */
    Optional<String> missingPrivileges() throws IOException;

    /** The logical volume whose device is {@code device} (symlinks followed), or empty when it is not one. */
    Optional<LogicalVolume> logicalVolume(Path device) throws IOException;

    /** The mounted file system that holds {@code file}. */
    MountedFileSystem fileSystemOf(Path file) throws IOException;

    /** The device node of volume {@code vg/lv}: {@code /dev/VG/LV}, which LVM makes with or without udev. */
    default Path devicePath(String vg, String lv) {
        return Path.of("/dev", vg, lv);
    }

    /** {@code lvcreate -s -L BYTES -n NAME VG/ORIGIN}. */
    void createSnapshot(LogicalVolume origin, String name, long bytes) throws IOException;

    /** The state of snapshot {@code vg/name}, or empty when there is no such volume. */
    Optional<SnapshotState> snapshotState(String vg, String name) throws IOException;

    /** {@code lvremove -y VG/NAME}. */
    void removeSnapshot(String vg, String name) throws IOException;

    /** {@code mount -t FSTYPE -o OPTIONS DEVICE DIR}; {@link ReadOnlyMount} chooses options that write nothing. */
    void mount(Path device, String fsType, String options, Path dir) throws IOException;

    /** Whether a file system is mounted at {@code dir} itself. */
    boolean isMountPoint(Path dir) throws IOException;

    void unmount(Path dir) throws IOException;

    /** How a snapshot is doing. {@code invalid}: it overflowed and LVM dropped it. */
    record SnapshotState(boolean invalid, String origin) {
    }

    /** For engines built without LVM (tests, the Jenkins glue): every call says so. */
    VolumeTools ABSENT = new VolumeTools() {
        private IOException absent() {
            return new IOException("this virt-backup has no LVM tools set up");
        }

        @Override
        public Optional<String> missingPrivileges() throws IOException {
            throw absent();
        }

        @Override
        public Optional<LogicalVolume> logicalVolume(Path device) throws IOException {
            throw absent();
        }

        @Override
        public MountedFileSystem fileSystemOf(Path file) throws IOException {
            throw absent();
        }

        @Override
        public void createSnapshot(LogicalVolume origin, String name, long bytes) throws IOException {
            throw absent();
        }

        @Override
        public Optional<SnapshotState> snapshotState(String vg, String name) throws IOException {
            throw absent();
        }

        @Override
        public void removeSnapshot(String vg, String name) throws IOException {
            throw absent();
        }

        @Override
        public void mount(Path device, String fsType, String options, Path dir) throws IOException {
            throw absent();
        }

        @Override
        public boolean isMountPoint(Path dir) throws IOException {
            throw absent();
        }

        @Override
        public void unmount(Path dir) throws IOException {
            throw absent();
        }
    };
}
