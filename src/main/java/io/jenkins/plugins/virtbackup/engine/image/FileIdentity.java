package io.jenkins.plugins.virtbackup.engine.image;

import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.store.Json;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What tells one state of an image file from a later one without reading it: size, modification
 * time and inode. A write by a guest, a commit, a copy put back in its place all change one of
 * them. For a block device only its size tells (its node's time does not follow writes).
 *
 * @param path     the image
 * @param size     its length (a block device's size)
 * @param modified modification time in ns since the epoch; 0 for a block device
 * @param inode    the file system's key of the file (device and inode)
 */
public record FileIdentity(String path, long size, long modified, String inode) {

    public static FileIdentity of(Path path) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
        if (attributes.isOther()) {
            try (FileChannel device = FileChannel.open(path, StandardOpenOption.READ)) {
                return new FileIdentity(path.toString(), device.size(), 0, String.valueOf(attributes.fileKey()));
            }
        }
        return new FileIdentity(path.toString(), attributes.size(),
                attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS), String.valueOf(attributes.fileKey()));
    }

    /** The identities of {@code images}, in order. */
    public static List<FileIdentity> of(List<Path> images) throws IOException {
        List<FileIdentity> identities = new ArrayList<>();
        for (Path image : images) {
            identities.add(of(image));
        }
        return identities;
    }

    /** How this file differs from {@code now}, in words; empty when it does not. */
    public String changesTo(FileIdentity now) {
        List<String> changes = new ArrayList<>();
        if (size != now.size) {
            changes.add("size " + size + " -> " + now.size);
        }
        if (modified != now.modified) {
            changes.add("modified since");
        }
        if (!inode.equals(now.inode)) {
            changes.add("replaced by another file");
        }
        return String.join(", ", changes);
    }

    /** What changed in each of these files since their identities were taken; empty when nothing did. */
    public static List<String> changesSince(List<FileIdentity> then) throws IOException {
        List<String> changes = new ArrayList<>();
        for (FileIdentity identity : then) {
            Path path = Path.of(identity.path());
            String change = Files.exists(path) ? identity.changesTo(of(path)) : "gone";
            if (!change.isEmpty()) {
                changes.add(path + " (" + change + ")");
            }
        }
        return changes;
    }

    /** The images of the disks that are local files or block devices. */
    public static List<Path> localImages(List<Disk> disks) {
        return disks.stream().filter(d -> ("file".equals(d.type()) || "block".equals(d.type())) && d.source() != null
                && !d.source().isEmpty()).map(d -> Path.of(d.source())).toList();
    }

    /** A list of identities as one journal value. */
    public static String toJournal(List<FileIdentity> identities) {
        return Json.write(identities.stream().map(FileIdentity::toJson).toList());
    }

    @SuppressWarnings("unchecked")
    public static List<FileIdentity> fromJournal(String value) throws IOException {
        try {
            List<FileIdentity> identities = new ArrayList<>();
            for (Object entry : (List<Object>) Json.parse(value)) {
                Map<String, Object> json = (Map<String, Object>) entry;
                identities.add(new FileIdentity((String) json.get("path"), ((Number) json.get("size")).longValue(),
                        ((Number) json.get("modified")).longValue(), (String) json.get("inode")));
            }
            return identities;
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            throw new IOException("unreadable file identities in the journal: " + e.getMessage(), e);
        }
    }

    private Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("path", path);
        json.put("size", size);
        json.put("modified", modified);
        json.put("inode", inode);
        return json;
    }
}
