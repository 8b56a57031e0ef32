package io.jenkins.plugins.virtbackup.engine.store;

import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.modes.Downtime;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code manifest.json} of a backup: what was backed up, how, and the checksum of every file.
 * Written last, so a directory with a manifest and without the {@code .partial} suffix is complete.
 *
 * @param downtime how long the guest could not run, and who measured it
 * @param skipped  disks not copied, target to reason
 * @param chains   each copied disk's image chain on the hypervisor, top first, by target
 */
public record Manifest(String toolVersion, String domainName, String domainUuid, String hypervisorUri,
                       BackupMode mode, DomainState stateFound, Instant start, Instant end,
                       Downtime downtime, List<BackedUpFile> files, Map<String, String> skipped,
                       Map<String, BackingChain> chains) {

    public static final String FILE_NAME = "manifest.json";
    /** Bumped only when a field changes meaning or goes away; new fields keep the version. */
    public static final int FORMAT_VERSION = 2;

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
        // null, not 0, when nobody measured it: a figure nobody took is not a zero.
        json.put("downtimeMs", downtime.isKnown() ? downtime.millis() : null);
        json.put("downtimeMeasuredBy", downtime.measuredBy());
        json.put("result", "complete");
        json.put("files", files.stream().map(BackedUpFile::toJson).toList());
        json.put("skipped", skipped);
        Map<String, Object> sources = new LinkedHashMap<>();
        chains.forEach((target, chain) -> sources.put(target, chain.toJson()));
        json.put("sourceChains", sources);
        return Json.write(json);
    }

    /** The downtime in ms, -1 when unknown. */
    public long downtimeMillis() {
        return downtime.millis();
    }

    public long totalBytes() {
        return files.stream().mapToLong(f -> f.digest().size()).sum();
    }
}
