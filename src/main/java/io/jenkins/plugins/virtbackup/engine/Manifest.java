package io.jenkins.plugins.virtbackup.engine;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code manifest.json} of a backup: what was backed up, how, and the checksum of every file.
 * Written last, so a directory with a manifest and without the {@code .partial} suffix is complete.
 *
 * @param downtimeMillis how long the guest could not run, measured on the host; 0 when it was not running
 * @param skipped        disks not copied, target to reason
 */
public record Manifest(String toolVersion, String domainName, String domainUuid, String hypervisorUri,
                       BackupMode mode, DomainState stateFound, Instant start, Instant end,
                       long downtimeMillis, List<BackedUpFile> files, Map<String, String> skipped) {

    public static final String FILE_NAME = "manifest.json";
    /** Bumped only when a field changes meaning or goes away; new fields keep the version. */
    public static final int FORMAT_VERSION = 1;

    public String toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("format", FORMAT_VERSION);
        json.put("tool", "virt-backup");
        json.put("version", toolVersion);
        Map<String, Object> domain = new LinkedHashMap<>();
        domain.put("name", domainName);
        domain.put("uuid", domainUuid);
        json.put("domain", domain);
        json.put("hypervisor", hypervisorUri);
        json.put("mode", mode.cliName());
        json.put("stateFound", stateFound.name().toLowerCase(java.util.Locale.ROOT));
        json.put("start", start.toString());
        json.put("end", end.toString());
        json.put("downtimeMs", downtimeMillis);
        json.put("result", "complete");
        json.put("files", files.stream().map(BackedUpFile::toJson).toList());
        json.put("skipped", skipped);
        return Json.write(json);
    }

    public long totalBytes() {
        return files.stream().mapToLong(f -> f.digest().size()).sum();
    }
}
