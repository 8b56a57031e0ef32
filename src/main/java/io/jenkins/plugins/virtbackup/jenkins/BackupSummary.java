package io.jenkins.plugins.virtbackup.jenkins;

import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import io.jenkins.plugins.virtbackup.engine.store.Increment;
import io.jenkins.plugins.virtbackup.engine.store.InvalidManifestException;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a finished run wrote, read from its {@code manifest.json}: the pipeline step's return value.
 *
 * @param level      full, inc or diff (what a level of auto became)
 * @param backupDir  the backup's directory on the node that ran it
 * @param parent     the directory of the backup this one builds on, beside it on the node; null for a full
 * @param files      the file names in it, as the manifest lists them
 * @param bytes      their total size
 * @param downtimeMs how long the guest could not run; null when nobody measured it
 */
public record BackupSummary(String domain, String mode, String level, String backupDir, String parent,
                            List<String> files, long bytes, Long downtimeMs, String result, String start,
                            String end) {

    /** The one result a manifest can have: the reader refuses any other. */
    private static final String COMPLETE = "complete";

    /**
     * Reads a manifest through the engine's one reader.
     *
     * @throws IllegalArgumentException with a readable message when it is not the manifest of a complete
     *         backup
     */
    public static BackupSummary fromManifest(String json, String backupDir) {
        try {
            return of(Manifest.parse(json), backupDir);
        } catch (InvalidManifestException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** What {@code manifest}, read from the backup in {@code backupDir}, says. */
    public static BackupSummary of(Manifest manifest, String backupDir) {
        List<String> names = manifest.files().stream().map(BackedUpFile::name).toList();
        Long downtimeMs = manifest.downtime().isKnown() ? manifest.downtime().millis() : null;
        Increment increment = manifest.increment();
        String parent = increment.parent() == null ? null : sibling(backupDir, increment.parent());
        return new BackupSummary(manifest.domainName(), manifest.mode().cliName(), increment.level().cliName(),
                backupDir, parent, names, manifest.totalBytes(), downtimeMs, COMPLETE, manifest.start().toString(),
                manifest.end().toString());
    }

    /**
     * The folder {@code name} beside {@code backupDir}, a path on the node: the manifest names a parent
     * by its folder name, and every backup of a domain is in the same folder.
     */
    private static String sibling(String backupDir, String name) {
        return backupDir.substring(0, backupDir.lastIndexOf('/') + 1) + name;
    }

    /**
     * The map a pipeline gets back. Plain {@code String}, {@code Long} and {@code ArrayList} values
     * only: pipeline programs are serialized, and sandboxed scripts may read maps and lists.
     */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("domain", domain);
        map.put("mode", mode);
        map.put("level", level);
        map.put("backupDir", backupDir);
        map.put("parent", parent);
        map.put("files", new ArrayList<>(files));
        map.put("bytes", bytes);
        map.put("downtimeMs", downtimeMs);
        map.put("result", result);
        map.put("start", start);
        map.put("end", end);
        return map;
    }
}
