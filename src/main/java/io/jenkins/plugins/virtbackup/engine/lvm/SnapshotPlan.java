package io.jenkins.plugins.virtbackup.engine.lvm;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.copy.Sizes;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which logical volumes {@code snapshot-dm} snapshots, how big each snapshot is, and where each of
 * a domain's images is read from once they exist. Made before the domain is touched: every reason
 * it cannot work (an image off LVM, a thin volume, a file system it cannot mount without writing,
 * a volume group without room) is a usage error here, with nothing changed.
 *
 * <p>An image that is a logical volume is read from its snapshot's device. An image file is read
 * from the snapshot of the volume under its file system, mounted read-only in {@code mountRoot}.
 */
public final class SnapshotPlan {

    /**
     * One volume to snapshot.
     *
     * @param origin       the volume
     * @param snapshot     the snapshot's name in the same group
     * @param snapshotDevice the snapshot's device node
     * @param bytes        the snapshot's size: the room for what the guest writes to the origin meanwhile
     * @param fileSystem   the file system on it whose images are copied, or null when the volume is a disk
     * @param mountOptions how its snapshot is mounted (null with no file system)
     * @param mountDir     where its snapshot is mounted (null with no file system)
     */
    public record Volume(LogicalVolume origin, String snapshot, Path snapshotDevice, long bytes,
                         MountedFileSystem fileSystem, String mountOptions, Path mountDir) {
    }

    private final Map<String, Volume> volumes;
    /** Each image's path, as the domain uses it, to the path it is read from in the snapshot. */
    private final Map<Path, Path> readFrom;

    /** Each image's path, as the domain uses it, to the volume it resides on. */
    private final Map<Path, Volume> volumeOf;

    private SnapshotPlan(Map<String, Volume> volumes, Map<Path, Path> readFrom, Map<Path, Volume> volumeOf) {
        this.volumes = volumes;
        this.readFrom = readFrom;
        this.volumeOf = volumeOf;
    }

    public List<Volume> volumes() {
        return List.copyOf(volumes.values());
    }

    /** Where {@code image} is read from once the snapshots exist (and are mounted). */
    public Path readFrom(Path image) {
        Path path = readFrom.get(image);
        if (path == null) {
            throw new IllegalArgumentException(image + " is not in the snapshot plan");
        }
        return path;
    }

    /**
     * @param requestedBytes {@code --snapshot-size}, or 0 for the default: the origin's size, or an
     *                       equal share of the group's free space when that is less
     * @param suffix         what makes the snapshots' names this run's own, e.g. {@code -vbsnap-1700000000-4242-1}
     */
    public static SnapshotPlan of(String domain, List<Disk> disks, Map<String, BackingChain> chains,
                                  VolumeTools tools, long requestedBytes, String suffix, Path mountRoot)
            throws BackupException {
        Map<String, LogicalVolume> origins = new LinkedHashMap<>();
        Map<String, MountedFileSystem> fileSystems = new LinkedHashMap<>();
        Map<Path, Place> places = new LinkedHashMap<>();
        for (Disk disk : disks) {
            List<BackingChain.Image> images = chains.get(disk.target()).images();
            for (BackingChain.Image image : images) {
                Place place = locate(domain, disk, image.path(), image == images.get(0), tools);
                origins.put(place.volume().fullName(), place.volume());
                if (place.fileSystem() != null) {
                    fileSystems.put(place.volume().fullName(), place.fileSystem());
                }
                places.put(image.path(), place);
            }
        }
        for (LogicalVolume lv : origins.values()) {
            refuseKind(lv);
        }
        Map<String, Long> sizes = sizes(origins, requestedBytes);
        Map<String, Volume> volumes = new LinkedHashMap<>();
        for (LogicalVolume lv : origins.values()) {
            MountedFileSystem fs = fileSystems.get(lv.fullName());
            String snapshot = lv.name() + suffix;
            refuseLongNames(domain, lv, snapshot);
            volumes.put(lv.fullName(), new Volume(lv, snapshot, tools.devicePath(lv.vg(), snapshot),
                    sizes.get(lv.fullName()), fs,
                    fs == null ? null : ReadOnlyMount.options(fs.fsType()).orElseThrow(),
                    fs == null ? null : mountRoot.resolve(mountFolderName(domain, lv.vg(), snapshot))));
        }
        Map<Path, Path> readFrom = new LinkedHashMap<>();
        Map<Path, Volume> volumeOf = new LinkedHashMap<>();
        places.forEach((image, place) -> {
            Volume volume = volumes.get(place.volume().fullName());
            volumeOf.put(image, volume);
            readFrom.put(image, volume.fileSystem() == null ? volume.snapshotDevice()
                    : volume.mountDir().resolve(volume.fileSystem().mountPoint().relativize(place.realPath())));
        });
        return new SnapshotPlan(volumes, readFrom, volumeOf);
    }

    /**
     * Where one image resides: the volume, and for a file the file system and the file's real path.
     *
     * @param fileSystem null for an image that is a volume
     * @param realPath   the file with every symbolic link on the way resolved; null for a volume
     */
    private record Place(LogicalVolume volume, MountedFileSystem fileSystem, Path realPath) {
    }

    private static Place locate(String domain, Disk disk, Path path, boolean top, VolumeTools tools)
            throws BackupException {
        try {
            if (isDevice(disk, path, top)) {
                LogicalVolume lv = tools.logicalVolume(path).orElseThrow(() -> usage(disk, path
                        + " is a block device but not an LVM logical volume"));
                return new Place(lv, null, null);
            }
            // Its real place: a symbolic link on the way (images -> /home/images) must not lead the
            // copy from the snapshot back to the live file system.
            Path real = path.toRealPath();
            MountedFileSystem fs = tools.fileSystemOf(real);
            LogicalVolume lv = tools.logicalVolume(fs.source()).orElseThrow(() -> usage(disk, path + " is on "
                    + fs.source() + " (mounted at " + fs.mountPoint() + "), which is not an LVM logical volume"));
            if (ReadOnlyMount.options(fs.fsType()).isEmpty()) {
                throw usage(disk, path + " is on a " + fs.fsType() + " file system, whose snapshot virt-backup "
                        + "cannot mount without writing to it (it can: " + ReadOnlyMount.known() + ")");
            }
            return new Place(lv, fs, real);
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot tell where disk " + disk.target()
                    + " of domain '" + domain + "' resides: " + e.getMessage(), e);
        }
    }

    /**
     * A usage error when this process cannot make snapshots (not root): asked before anything else
     * of the domain's disks, which a user without the rights may not even be able to read.
     */
    public static void requirePrivileges(VolumeTools tools) throws BackupException {
        Optional<String> missing;
        try {
            missing = tools.missingPrivileges();
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot tell whether LVM snapshots can be made here: "
                    + e.getMessage(), e);
        }
        if (missing.isPresent()) {
            throw new BackupException(ExitStatus.USAGE, "snapshot-dm needs root: " + missing.get()
                    + "; run virt-backup as root (from Jenkins: on an agent that runs as root), or use another mode");
        }
    }

    /**
     * A block disk's own image is a device, and so is any image that is no regular file, whatever
     * the disk's type says: an image below a block disk's top one is a file more often than not.
     */
    private static boolean isDevice(Disk disk, Path path, boolean top) {
        return top && "block".equals(disk.type()) || !Files.isRegularFile(path);
    }

    /**
     * Device-mapper names the snapshot {@code VG-LV} with each dash doubled, in 127 bytes at most;
     * its mount folder is one name of 255 bytes at most. Said now, not after the domain was saved.
     */
    private static void refuseLongNames(String domain, LogicalVolume lv, String snapshot) throws BackupException {
        String dmName = lv.vg().replace("-", "--") + "-" + snapshot.replace("-", "--");
        if (dmName.getBytes(StandardCharsets.UTF_8).length > 127) {
            throw new BackupException(ExitStatus.USAGE, "snapshot-dm cannot snapshot " + lv.fullName()
                    + ": the snapshot's device-mapper name " + dmName + " would be longer than 127 bytes; "
                    + "use another mode for this domain");
        }
        if (mountFolderName(domain, lv.vg(), snapshot).getBytes(StandardCharsets.UTF_8).length > 255) {
            throw new BackupException(ExitStatus.USAGE, "snapshot-dm cannot mount the snapshots of domain '" + domain
                    + "': its name is too long for a folder name with the snapshot's; use another mode");
        }
    }

    private static String mountFolderName(String domain, String vg, String snapshot) {
        return domain + "-" + vg + "-" + snapshot;
    }

    /**
     * After the mounts: every image read from a mounted snapshot really lies in it. A symbolic
     * link made inside the file system after the plan would otherwise lead back to the origin.
     */
    public void requireInsideSnapshots() throws BackupException {
        for (Map.Entry<Path, Path> entry : readFrom.entrySet()) {
            Volume volume = volumeOf.get(entry.getKey());
            if (volume.fileSystem() == null) {
                continue;
            }
            try {
                Path real = entry.getValue().toRealPath();
                if (!real.startsWith(volume.mountDir().toRealPath())) {
                    throw new BackupException(ExitStatus.BACKUP_FAILED, "image " + entry.getKey() + " leads out of the "
                            + "snapshot of " + volume.origin().fullName() + " to " + real + " (a symbolic link): "
                            + "not copying a live image");
                }
            } catch (IOException e) {
                throw new BackupException(ExitStatus.BACKUP_FAILED, "image " + entry.getKey() + " is not in the "
                        + "snapshot of " + volume.origin().fullName() + " at " + entry.getValue() + ": "
                        + e.getMessage(), e);
            }
        }
    }

    private static BackupException usage(Disk disk, String why) {
        return new BackupException(ExitStatus.USAGE, "snapshot-dm cannot back up disk " + disk.target() + ": "
                + why + "; the mode needs every image on LVM (use another mode for this domain)");
    }

    private static void refuseKind(LogicalVolume lv) throws BackupException {
        if (lv.isThin()) {
            throw new BackupException(ExitStatus.USAGE, "snapshot-dm does not snapshot thin logical volumes ("
                    + lv.fullName() + " is " + lv.segtype() + "): their snapshots live in the thin pool, not in "
                    + "the volume group's free space, and are not activated by default; use another mode");
        }
        if (lv.isSnapshot()) {
            throw new BackupException(ExitStatus.USAGE, "snapshot-dm cannot snapshot " + lv.fullName()
                    + ": it is itself a snapshot");
        }
    }

    /** Each snapshot's size, rounded to the group's extents; all of a group's snapshots must fit its free space. */
    private static Map<String, Long> sizes(Map<String, LogicalVolume> origins, long requestedBytes)
            throws BackupException {
        Map<String, List<LogicalVolume>> byGroup = new LinkedHashMap<>();
        origins.values().forEach(lv -> byGroup.computeIfAbsent(lv.vg(), g -> new ArrayList<>()).add(lv));
        Map<String, Long> sizes = new LinkedHashMap<>();
        for (List<LogicalVolume> group : byGroup.values()) {
            LogicalVolume first = group.get(0);
            long extent = Math.max(1, first.extentBytes());
            long free = first.vgFreeBytes();
            long share = free / group.size() / extent * extent;
            long needed = 0;
            for (LogicalVolume lv : group) {
                long size = requestedBytes > 0 ? roundUp(requestedBytes, extent)
                        : Math.min(roundUp(lv.bytes(), extent), share);
                if (size < extent) {
                    throw new BackupException(ExitStatus.USAGE, "volume group " + lv.vg() + " has "
                            + Sizes.human(free) + " free, not enough for " + group.size() + " snapshot(s) of "
                            + Sizes.human(extent) + " at least; free some space in it (vgextend, lvreduce)");
                }
                sizes.put(lv.fullName(), size);
                needed += size;
            }
            if (needed > free) {
                throw new BackupException(ExitStatus.USAGE, "volume group " + first.vg() + " has "
                        + Sizes.human(free) + " free, but " + group.size() + " snapshot(s) of --snapshot-size "
                        + Sizes.human(roundUp(requestedBytes, extent)) + " need " + Sizes.human(needed)
                        + "; give a smaller --snapshot-size or free some space in it");
            }
        }
        return sizes;
    }

    private static long roundUp(long bytes, long extent) {
        return (bytes + extent - 1) / extent * extent;
    }

    /** The volume named {@code fullName} ({@code vg/lv}), if this plan snapshots it. */
    public Optional<Volume> volume(String fullName) {
        return Optional.ofNullable(volumes.get(fullName));
    }
}
