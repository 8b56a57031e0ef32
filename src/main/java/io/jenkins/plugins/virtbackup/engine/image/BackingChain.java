package io.jenkins.plugins.virtbackup.engine.image;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A disk's image and every image below it, top first: what a guest reads through a qcow2 overlay
 * (a linked clone on a template, a snapshot chain). A backup that copied only the top image could
 * not be read without the others, so every image of the chain goes into the backup.
 *
 * <p>Read from the images' own headers, as QEMU reads them, so it works for a shut-off domain
 * too; libvirt's view of the running domain is checked against the same files.
 */
public record BackingChain(List<Image> images) {
    /** Deeper than any chain a person builds; a loop of references ends here at the latest. */
    private static final int MAX_DEPTH = 64;
    /** A backing name QEMU would open through a protocol driver instead of a local file. */
    private static final Pattern PROTOCOL = Pattern.compile(
            "^(json:|[A-Za-z][A-Za-z0-9+.-]*://|(nbd|nbd\\+unix|rbd|gluster|iscsi|sheepdog|ssh|nfs|vxhs|http|https"
                    + "|ftp|ftps)[:+]).*");

    /**
     * One image of a chain.
     *
     * @param path    where it is, as the image above names it (resolved against that image's folder)
     * @param format  {@code qcow2} or {@code raw}
     * @param backing the name of the next image down as this image stores it; null at the bottom
     */
    public record Image(Path path, String format, String backing) {
        public Map<String, Object> toJson() {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("path", path.toString());
            json.put("format", format);
            if (backing != null) {
                // As the image stores it: how the chain was linked, and what reads back into this record.
                json.put("backing", backing);
            }
            return json;
        }
    }

    public BackingChain {
        images = List.copyOf(images);
    }

    /**
     * Follows the chain of disk {@code target} from its image {@code top} of format {@code format}.
     *
     * @throws BackupException {@link ExitStatus#USAGE} when an image of the chain is not a local file
     *         or block device, or of a format a backup cannot follow; {@link ExitStatus#BACKUP_FAILED}
     *         when an image cannot be read
     */
    public static BackingChain of(String target, Path top, String format) throws BackupException {
        List<Image> images = new ArrayList<>();
        Set<Path> seen = new HashSet<>();
        Path path = top;
        String fmt = format;
        try {
            while (path != null) {
                requireLocal(target, path, seen);
                if (images.size() == MAX_DEPTH) {
                    throw refusal(target, "its backing chain is deeper than " + MAX_DEPTH + " images");
                }
                if (!"qcow2".equals(fmt)) {
                    images.add(new Image(path, requireKnown(target, path, fmt), null));
                    break;
                }
                Qcow2Header header = Qcow2Header.read(path);
                if (header.hasExternalDataFile()) {
                    throw refusal(target, path + " keeps its data in an external data file, which a backup "
                            + "cannot follow");
                }
                String backing = header.backingName();
                images.add(new Image(path, fmt, backing));
                if (backing == null) {
                    break;
                }
                path = resolve(target, path, backing);
                fmt = header.backingFormat() != null ? header.backingFormat() : probe(path);
            }
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot read the backing chain of disk " + target
                    + ": " + e.getMessage(), e);
        }
        return new BackingChain(images);
    }

    /** The top image alone: a disk that is not a qcow2 overlay. */
    public static BackingChain single(Path image, String format) {
        return new BackingChain(List.of(new Image(image, format, null)));
    }

    public Image top() {
        return images.get(0);
    }

    /** Whether the top image reads through other images. */
    public boolean hasBacking() {
        return images.size() > 1;
    }

    /** The images below the top one, which a guest only reads. */
    public List<Image> below() {
        return images.subList(1, images.size());
    }

    /** Paths and formats, top first, as the manifest records the source chain. */
    public List<Map<String, Object>> toJson() {
        return images.stream().map(Image::toJson).toList();
    }

    /** The chain in one line, for messages: {@code a.qcow2 (qcow2) -> base.raw (raw)}, top first. */
    public String describe() {
        StringBuilder out = new StringBuilder();
        for (Image image : images) {
            if (out.length() > 0) {
                out.append(" -> ");
            }
            out.append(image.path()).append(" (").append(image.format()).append(')');
        }
        return out.toString();
    }

    private static Path resolve(String target, Path image, String backing) throws BackupException {
        String name = backing.startsWith("file:") ? backing.substring("file:".length()) : backing;
        if (PROTOCOL.matcher(backing).matches()) {
            throw refusal(target, "its backing chain reaches '" + backing + "' (below " + image
                    + "), which is not a local file or block device");
        }
        Path folder = image.toAbsolutePath().getParent();
        return folder.resolve(name);
    }

    private static void requireLocal(String target, Path path, Set<Path> seen) throws BackupException, IOException {
        if (!Files.exists(path)) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "disk " + target + ": the image " + path
                    + " of its backing chain does not exist");
        }
        if (!Files.isRegularFile(path) && !isBlockDevice(path)) {
            throw refusal(target, path + " in its backing chain is neither a file nor a block device");
        }
        if (!seen.add(path.toRealPath())) {
            throw refusal(target, "its backing chain loops back to " + path);
        }
    }

    private static String requireKnown(String target, Path path, String format) throws BackupException {
        if (!"raw".equals(format)) {
            throw refusal(target, path + " in its backing chain is in format '" + format
                    + "'; a backup follows qcow2 and raw images only");
        }
        return format;
    }

    /** An image that does not record its backing file's format: QEMU probes it, and so do we. */
    private static String probe(Path path) throws IOException {
        return Qcow2Header.hasMagic(path) ? "qcow2" : "raw";
    }

    static boolean isBlockDevice(Path path) throws IOException {
        int mode = (Integer) Files.getAttribute(path, "unix:mode");
        return (mode & 0170000) == 0060000;
    }

    private static BackupException refusal(String target, String why) {
        return new BackupException(ExitStatus.USAGE, "disk " + target + " cannot be backed up: " + why);
    }
}
