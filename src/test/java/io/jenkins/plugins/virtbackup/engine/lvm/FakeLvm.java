package io.jenkins.plugins.virtbackup.engine.lvm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * LVM and a mount table made of real files in a folder, recording every call. A volume's device is
 * a file under {@code dev/VG/}; a file system on a volume is a folder standing for its mount. A
 * snapshot copies what its origin holds at that moment, so a test sees whether the copy came from
 * the snapshot or from the origin as it is now.
 */
public final class FakeLvm implements VolumeTools {
    private final Path root;
    /** What every call saw, in order; {@code now} adds the domain's state to the snapshot calls. */
    public final List<String> calls = new ArrayList<>();
    private final Supplier<String> now;
    private final Map<String, LogicalVolume> volumes = new LinkedHashMap<>();
    private final Map<Path, String> fileSystems = new LinkedHashMap<>();
    private final Map<String, String> fsTypes = new LinkedHashMap<>();
    private final Map<String, Boolean> invalid = new LinkedHashMap<>();
    private final Map<String, String> origins = new LinkedHashMap<>();
    private final Set<Path> mounted = new HashSet<>();
    public long vgFree = 1L << 30;
    public IOException failCreate;
    public boolean overflowOnCreate;
    /** A process keeps the mounts open: umount fails, and so does lvremove of a mounted snapshot. */
    public boolean busy;
    /** Set: this process lacks the rights LVM needs, for this reason. */
    public String unprivileged;
    /** Runs after each mount: the domain runs again by then, and may write to the origins. */
    public Runnable afterMount = () -> { };

    public FakeLvm(Path root, Supplier<String> now) {
        this.root = root;
        this.now = now;
    }

    @Override
    public Optional<String> missingPrivileges() {
        return Optional.ofNullable(unprivileged);
    }

    /** A linear volume {@code vg/name} of {@code bytes}, its device a file of that length. */
    public Path volume(String vg, String name, long bytes, String segtype) throws IOException {
        volumes.put(vg + "/" + name, new LogicalVolume(vg, name, bytes, segtype, "-wi-ao----", vgFree, 4L << 20));
        Path device = devicePath(vg, name);
        Files.createDirectories(device.getParent());
        try (FileChannel file = FileChannel.open(device, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            file.write(ByteBuffer.allocate(1), bytes - 1);  // a sparse file of the volume's size
        }
        return device;
    }

    /** A file system of {@code type} on {@code vg/name}, "mounted" at the returned folder. */
    public Path fileSystem(String vg, String name, String type) throws IOException {
        volume(vg, name, 64L << 20, "linear");
        Path mount = Files.createDirectories(root.resolve("mnt").resolve(name));
        fileSystems.put(mount, vg + "/" + name);
        fsTypes.put(vg + "/" + name, type);
        return mount;
    }

    @Override
    public Path devicePath(String vg, String lv) {
        return root.resolve("dev").resolve(vg).resolve(lv);
    }

    private String nameOf(Path device) {
        return volumes.keySet().stream().filter(n -> devicePath(n.split("/")[0], n.split("/")[1]).equals(device))
                .findFirst().orElse(null);
    }

    @Override
    public Optional<LogicalVolume> logicalVolume(Path device) {
        calls.add("lvs " + root.relativize(device.toAbsolutePath()));
        String name = nameOf(device);
        if (name == null) {
            return Optional.empty();
        }
        LogicalVolume lv = volumes.get(name);
        return Optional.of(new LogicalVolume(lv.vg(), lv.name(), lv.bytes(), lv.segtype(), lv.attr(), vgFree,
                lv.extentBytes()));
    }

    @Override
    public MountedFileSystem fileSystemOf(Path file) throws IOException {
        calls.add("findmnt " + root.relativize(file));
        for (Map.Entry<Path, String> fs : fileSystems.entrySet()) {
            if (file.startsWith(fs.getKey())) {
                String[] lv = fs.getValue().split("/");
                return new MountedFileSystem(devicePath(lv[0], lv[1]), fs.getKey(), fsTypes.get(fs.getValue()));
            }
        }
        return new MountedFileSystem(Path.of("/dev/sda1"), root, "ext4");
    }

    @Override
    public void createSnapshot(LogicalVolume origin, String name, long bytes) throws IOException {
        calls.add("lvcreate -s -L " + bytes + " -n " + name + " " + origin.fullName() + " (domain " + now.get() + ")");
        if (failCreate != null) {
            throw failCreate;
        }
        String full = origin.vg() + "/" + name;
        if (volumes.containsKey(full)) {
            throw new IOException("Logical Volume \"" + name + "\" already exists in volume group \"" + origin.vg() + "\"");
        }
        Optional<Path> mount = fileSystems.entrySet().stream().filter(e -> e.getValue().equals(origin.fullName()))
                .map(Map.Entry::getKey).findFirst();
        if (mount.isPresent()) {
            copyTree(mount.get(), snapshotTree(full));
        } else {
            Files.copy(devicePath(origin.vg(), origin.name()), devicePath(origin.vg(), name));
        }
        volumes.put(full, new LogicalVolume(origin.vg(), name, bytes, "linear", "swi-a-s---", vgFree,
                origin.extentBytes()));
        origins.put(full, origin.name());
        invalid.put(full, overflowOnCreate);
    }

    private Path snapshotTree(String full) {
        return root.resolve("snapshot-trees").resolve(full);
    }

    @Override
    public Optional<SnapshotState> snapshotState(String vg, String name) {
        calls.add("lvs " + vg + "/" + name);
        String full = vg + "/" + name;
        if (!volumes.containsKey(full)) {
            return Optional.empty();
        }
        // As lvs says it: a volume that is no snapshot has no origin.
        return Optional.of(origins.containsKey(full) ? new SnapshotState(invalid.get(full), origins.get(full))
                : new SnapshotState(false, ""));
    }

    @Override
    public void removeSnapshot(String vg, String name) throws IOException {
        calls.add("lvremove " + vg + "/" + name);
        String full = vg + "/" + name;
        if (mounted.stream().anyMatch(dir -> dir.getFileName().toString().endsWith(name))) {
            throw new IOException("Logical volume " + full + " contains a filesystem in use.");
        }
        volumes.remove(full);
        origins.remove(full);
        Files.deleteIfExists(devicePath(vg, name));
        deleteTree(snapshotTree(full));
    }

    @Override
    public void mount(Path device, String fsType, String options, Path dir) throws IOException {
        calls.add("mount -t " + fsType + " -o " + options + " " + root.relativize(device));
        String full = nameOf(device);
        copyTree(snapshotTree(full), dir);
        mounted.add(dir);
        afterMount.run();
    }

    @Override
    public boolean isMountPoint(Path dir) {
        return mounted.contains(dir);
    }

    @Override
    public void unmount(Path dir) throws IOException {
        calls.add("umount " + dir.getFileName());
        if (busy) {
            throw new IOException("umount: " + dir + ": target is busy.");
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                deleteTree(file);
            }
        }
        mounted.remove(dir);
    }

    /** The guest wrote more than its snapshot can hold: LVM drops the snapshot. */
    public void overflow(String full) {
        invalid.put(full, true);
    }

    /** Which snapshots exist now. */
    public List<String> snapshots() {
        return new ArrayList<>(origins.keySet());
    }

    public Set<Path> mounts() {
        return Set.copyOf(mounted);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.toList()) {
                Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> files = Files.walk(path)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }
}
