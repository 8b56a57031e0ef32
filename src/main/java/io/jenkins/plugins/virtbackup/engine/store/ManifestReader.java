package io.jenkins.plugins.virtbackup.engine.store;

import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkIndex;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.modes.Downtime;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns a manifest's JSON into a {@link Manifest}, field by field, refusing what this version cannot
 * stand behind: a format newer than it knows, a backup that does not say it is complete, a file
 * named anywhere but directly in the backup's folder. Fields added after format 1 (who measured the
 * downtime, the source chains, a file's compression) may be missing from old manifests and read as
 * unknown, empty or none.
 */
final class ManifestReader {
    private static final String TOOL = "virt-backup";
    private static final String COMPLETE = "complete";
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private ManifestReader() {
    }

    static Manifest parse(String text) throws InvalidManifestException {
        Object json;
        try {
            json = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new InvalidManifestException(e.getMessage());
        }
        Fields manifest = Fields.of(json, "");
        int format = format(manifest);
        if (!TOOL.equals(manifest.optionalString("tool"))) {
            throw new InvalidManifestException("not a manifest of " + TOOL + " (tool: "
                    + manifest.optionalString("tool") + ")");
        }
        String result = manifest.optionalString("result");
        if (!COMPLETE.equals(result)) {
            throw new InvalidManifestException("the manifest does not say the backup is complete (result: "
                    + result + ")");
        }
        Fields domain = manifest.object("domain");
        return new Manifest(format, manifest.optionalString("version"), domain.string("name"),
                domain.optionalString("uuid"), manifest.optionalString("hypervisor"), mode(manifest),
                stateFound(manifest), manifest.instant("start"), manifest.instant("end"), downtime(manifest),
                files(manifest, format), skipped(manifest), sourceChains(manifest), increment(manifest),
                manifest.optionalBoolean("verified"));
    }

    /** Read first, since a newer format may have changed everything else. */
    private static int format(Fields manifest) throws InvalidManifestException {
        long format = manifest.number("format");
        if (format > Manifest.FORMAT_VERSION) {
            throw new InvalidManifestException("manifest format " + format + " is newer than this version of "
                    + TOOL + " reads (up to " + Manifest.FORMAT_VERSION + "); use a newer " + TOOL);
        }
        if (format < 1) {
            throw new InvalidManifestException("manifest format " + format + " does not exist");
        }
        return (int) format;
    }

    private static BackupMode mode(Fields manifest) throws InvalidManifestException {
        String name = manifest.string("mode");
        return BackupMode.fromCliName(name).orElseThrow(() -> new InvalidManifestException(
                "mode '" + name + "' is not one of " + BackupMode.allCliNames()));
    }

    private static DomainState stateFound(Fields manifest) throws InvalidManifestException {
        String name = manifest.string("stateFound");
        try {
            return DomainState.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidManifestException("stateFound '" + name + "' is not a domain state");
        }
    }

    /** A figure nobody took is null in the manifest and -1 here; format 1 did not always say who took it. */
    private static Downtime downtime(Fields manifest) throws InvalidManifestException {
        Long millis = manifest.optionalNumber("downtimeMs");
        String measuredBy = manifest.optionalString("downtimeMeasuredBy");
        return new Downtime(millis == null ? -1 : millis, measuredBy == null ? Downtime.UNKNOWN : measuredBy);
    }

    private static List<BackedUpFile> files(Fields manifest, int format) throws InvalidManifestException {
        List<?> entries = manifest.list("files");
        List<BackedUpFile> files = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < entries.size(); i++) {
            BackedUpFile file = file(Fields.of(entries.get(i), "files[" + i + "]"), format);
            if (!names.add(file.name())) {
                throw new InvalidManifestException("files[" + i + "].name '" + file.name() + "' is listed twice");
            }
            files.add(file);
        }
        return files;
    }

    private static BackedUpFile file(Fields file, int format) throws InvalidManifestException {
        long size = file.number("size");
        if (size < 0) {
            throw new InvalidManifestException(file.where("size") + " is negative");
        }
        BackedUpFile.Checksum checksum = format >= Manifest.FIRST_CHUNKED_FORMAT
                ? new BackedUpFile.Chunked(chunkIndex(file.object("chunks")))
                : new BackedUpFile.WholeFile(file.sha256("sha256"));
        String backing = file.optionalString("backing");
        if (backing != null) {
            requirePlainName(file, "backing", backing);
        }
        Long dataBytes = file.optionalNumber("dataBytes");
        if (dataBytes != null && dataBytes < 0) {
            throw new InvalidManifestException(file.where("dataBytes") + " is negative");
        }
        return new BackedUpFile(file.fileName("name"), file.string("kind"), size, checksum,
                file.optionalString("target"), file.optionalString("source"), file.optionalString("format"), backing,
                file.optionalString("compression"), dataBytes);
    }

    private static ChunkIndex.Ref chunkIndex(Fields chunks) throws InvalidManifestException {
        long chunkSize = chunks.number("chunkSize");
        if (chunkSize < 1 || chunkSize > Integer.MAX_VALUE) {
            throw new InvalidManifestException(chunks.where("chunkSize") + " " + chunkSize + " is not a chunk size");
        }
        long count = chunks.number("count");
        long dataChunks = chunks.number("dataChunks");
        if (count < 0 || dataChunks < 0 || dataChunks > count) {
            throw new InvalidManifestException(chunks.where("dataChunks") + " " + dataChunks + " of "
                    + chunks.where("count") + " " + count + " cannot be");
        }
        return new ChunkIndex.Ref(chunks.fileName("file"), (int) chunkSize, count, dataChunks, chunks.sha256("sha256"));
    }

    private static Map<String, String> skipped(Fields manifest) throws InvalidManifestException {
        Map<String, String> skipped = new LinkedHashMap<>();
        Fields reasons = manifest.optionalObject("skipped");
        if (reasons != null) {
            for (String target : reasons.keys()) {
                skipped.put(target, reasons.string(target));
            }
        }
        return skipped;
    }

    /** Missing in manifests written before backing chains were followed. */
    private static Map<String, BackingChain> sourceChains(Fields manifest) throws InvalidManifestException {
        Map<String, BackingChain> chains = new LinkedHashMap<>();
        Fields byTarget = manifest.optionalObject("sourceChains");
        if (byTarget == null) {
            return chains;
        }
        for (String target : byTarget.keys()) {
            List<?> entries = byTarget.list(target);
            List<BackingChain.Image> images = new ArrayList<>();
            for (int i = 0; i < entries.size(); i++) {
                Fields image = Fields.of(entries.get(i), byTarget.where(target) + "[" + i + "]");
                images.add(new BackingChain.Image(Path.of(image.string("path")), image.string("format"),
                        image.optionalString("backing")));
            }
            chains.put(target, new BackingChain(images));
        }
        return chains;
    }

    /** Missing in manifests written before incremental backups: those stand alone. */
    private static Increment increment(Fields manifest) throws InvalidManifestException {
        String name = manifest.optionalString("level");
        if (name == null) {
            return Increment.STANDALONE;
        }
        BackupLevel level = BackupLevel.fromCliName(name).filter(l -> l != BackupLevel.AUTO).orElseThrow(
                () -> new InvalidManifestException("level '" + name + "' is not full, inc or diff"));
        String parent = manifest.optionalString("parent");
        if (parent != null) {
            requirePlainName(manifest, "parent", parent);
        }
        if (level.needsParent() != (parent != null)) {
            throw new InvalidManifestException("level " + level + (parent == null ? " needs a" : " has no")
                    + " parent");
        }
        Fields taken = manifest.optionalObject("checkpoint");
        Increment.Checkpoint checkpoint = taken == null ? null
                : new Increment.Checkpoint(taken.string("name"), taken.string("xml"));
        Map<String, Increment.DiskChain> disks = new LinkedHashMap<>();
        Fields chains = manifest.optionalObject("backupChains");
        if (chains != null) {
            for (String target : chains.keys()) {
                Fields disk = chains.object(target);
                List<?> entries = disk.list("files");
                List<String> files = new ArrayList<>();
                for (int i = 0; i < entries.size(); i++) {
                    files.add(chainFile(disk, i, entries.get(i)));
                }
                disks.put(target, new Increment.DiskChain(disk.number("size"), files));
            }
        }
        return new Increment(level, parent, checkpoint, disks);
    }

    /**
     * A file of a disk's backup chain: the backup's own (a plain name) first, then files of the
     * backups it builds on, all siblings of its folder ({@code ../FOLDER/NAME}); nothing else.
     */
    private static String chainFile(Fields disk, int i, Object entry) throws InvalidManifestException {
        String where = disk.where("files") + "[" + i + "]";
        if (!(entry instanceof String file)) {
            throw new InvalidManifestException(where + " is not a string");
        }
        String[] parts = file.split("/", -1);
        boolean own = i == 0 && parts.length == 1 && isPlainName(parts[0]);
        boolean sibling = i > 0 && parts.length == 3 && parts[0].equals("..") && isPlainName(parts[1])
                && isPlainName(parts[2]);
        if (!own && !sibling) {
            throw new InvalidManifestException(where + " '" + file + "' is not "
                    + (i == 0 ? "a file in the backup's folder" : "a file of a sibling backup (../FOLDER/NAME)"));
        }
        return file;
    }

    /**
     * A name of a file in the backup: the folder's own entry, never a path. Verify and restore open
     * these names; one with a slash, or {@code ..}, would make them read or write elsewhere.
     */
    static boolean isPlainName(String name) {
        return !name.isEmpty() && !name.equals(".") && !name.equals("..") && name.indexOf('/') < 0
                && name.indexOf('\0') < 0;
    }

    private static void requirePlainName(Fields fields, String key, String name) throws InvalidManifestException {
        if (!isPlainName(name)) {
            throw new InvalidManifestException(fields.where(key) + " '" + name
                    + "' is not the name of a file in the backup's folder");
        }
    }

    /** One JSON object of the manifest ({@code path} "" for the top one), read with messages that name the field. */
    private record Fields(Map<?, ?> map, String path) {
        static Fields of(Object value, String path) throws InvalidManifestException {
            if (value instanceof Map<?, ?> map) {
                return new Fields(map, path);
            }
            throw new InvalidManifestException((path.isEmpty() ? "the manifest" : path) + " is not a JSON object");
        }

        String where(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        Set<String> keys() {
            Set<String> keys = new LinkedHashSet<>();
            map.keySet().forEach(key -> keys.add((String) key));
            return keys;
        }

        private Object required(String key) throws InvalidManifestException {
            Object value = map.get(key);
            if (value == null) {
                throw new InvalidManifestException(where(key) + " is missing");
            }
            return value;
        }

        private <T> T typed(String key, Object value, Class<T> type, String what) throws InvalidManifestException {
            if (!type.isInstance(value)) {
                throw new InvalidManifestException(where(key) + " is not " + what);
            }
            return type.cast(value);
        }

        String string(String key) throws InvalidManifestException {
            return typed(key, required(key), String.class, "a string");
        }

        String optionalString(String key) throws InvalidManifestException {
            Object value = map.get(key);
            return value == null ? null : typed(key, value, String.class, "a string");
        }

        long number(String key) throws InvalidManifestException {
            return typed(key, required(key), Long.class, "a whole number");
        }

        Long optionalNumber(String key) throws InvalidManifestException {
            Object value = map.get(key);
            return value == null ? null : typed(key, value, Long.class, "a whole number");
        }

        Boolean optionalBoolean(String key) throws InvalidManifestException {
            Object value = map.get(key);
            return value == null ? null : typed(key, value, Boolean.class, "true or false");
        }

        Fields object(String key) throws InvalidManifestException {
            return of(required(key), where(key));
        }

        Fields optionalObject(String key) throws InvalidManifestException {
            Object value = map.get(key);
            return value == null ? null : of(value, where(key));
        }

        List<?> list(String key) throws InvalidManifestException {
            return typed(key, required(key), List.class, "a list");
        }

        Instant instant(String key) throws InvalidManifestException {
            String text = string(key);
            try {
                return Instant.parse(text);
            } catch (DateTimeParseException e) {
                throw new InvalidManifestException(where(key) + " '" + text + "' is not a UTC time");
            }
        }

        String sha256(String key) throws InvalidManifestException {
            String digest = string(key);
            if (!SHA256.matcher(digest).matches()) {
                throw new InvalidManifestException(where(key) + " '" + digest + "' is not a lowercase hex SHA-256");
            }
            return digest;
        }

        String fileName(String key) throws InvalidManifestException {
            String name = string(key);
            requirePlainName(this, key, name);
            return name;
        }
    }
}
