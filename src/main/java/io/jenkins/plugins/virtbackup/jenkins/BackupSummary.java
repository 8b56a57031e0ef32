package io.jenkins.plugins.virtbackup.jenkins;

import io.jenkins.plugins.virtbackup.engine.store.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a finished run wrote, read from its {@code manifest.json}: the pipeline step's return value.
 *
 * @param backupDir  the backup's directory on the node that ran it
 * @param files      the file names in it, as the manifest lists them
 * @param bytes      their total size
 * @param downtimeMs how long the guest could not run; null when nobody measured it
 */
public record BackupSummary(String domain, String mode, String backupDir, List<String> files, long bytes,
                            Long downtimeMs, String result, String start, String end) {

    /** The name of a backup directory below {@code DIR/DOMAIN}: the UTC start, made unique by a suffix. */
    private static final Pattern STAMP = Pattern.compile("\\d{8}T\\d{6}Z(-\\d+)?");

    /**
     * The directory the engine's completion line names, if it is a backup directory of {@code options}'s
     * domain under its backup root; null otherwise. The line reads
     * {@code virt-backup: backup of domain 'D' complete: N file(s), SIZE, guest downtime T ms, in DIR/D/STAMP}.
     */
    public static String backupDirFromCompleteLine(String completeLine, BackupOptions options) {
        if (completeLine == null) {
            return null;
        }
        String parent = options.domainDir() + "/";
        String marker = ", in " + parent;
        int at = completeLine.lastIndexOf(marker);
        if (at < 0) {
            return null;
        }
        String stamp = completeLine.substring(at + marker.length());
        return STAMP.matcher(stamp).matches() ? parent + stamp : null;
    }

    /** Reads a manifest; fails with a readable message when it is not one of a complete backup. */
    public static BackupSummary fromManifest(String json, String backupDir) {
        Map<?, ?> manifest = (Map<?, ?>) Json.parse(json);
        Map<?, ?> domain = (Map<?, ?>) manifest.get("domain");
        List<String> names = new ArrayList<>();
        long bytes = 0;
        for (Object entry : (List<?>) manifest.get("files")) {
            Map<?, ?> file = (Map<?, ?>) entry;
            names.add((String) file.get("name"));
            bytes += ((Number) file.get("size")).longValue();
        }
        Number downtime = (Number) manifest.get("downtimeMs");
        return new BackupSummary((String) domain.get("name"), (String) manifest.get("mode"), backupDir,
                List.copyOf(names), bytes, downtime == null ? null : downtime.longValue(),
                (String) manifest.get("result"), (String) manifest.get("start"), (String) manifest.get("end"));
    }

    /**
     * The map a pipeline gets back. Plain {@code String}, {@code Long} and {@code ArrayList} values
     * only: pipeline programs are serialized, and sandboxed scripts may read maps and lists.
     */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("domain", domain);
        map.put("mode", mode);
        map.put("backupDir", backupDir);
        map.put("files", new ArrayList<>(files));
        map.put("bytes", bytes);
        map.put("downtimeMs", downtimeMs);
        map.put("result", result);
        map.put("start", start);
        map.put("end", end);
        return map;
    }
}
