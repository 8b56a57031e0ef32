package io.jenkins.plugins.virtbackup.engine.store;

import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.modes.Downtime;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code manifest.json} of a backup: what was backed up, how, and how to check every file.
 * Written last, so a directory with a manifest and without the {@code .partial} suffix is complete.
 * The one way to read a manifest back is {@link #read} (or {@link #parse}): verify, the Jenkins glue
 * and, later, restore and prune get this record, never the JSON. docs/format.md describes the file.
 *
 * @param format   the manifest format: {@link #FORMAT_VERSION} for what this version writes, 1 for older
 *                 backups, whose files carry a whole-file SHA-256 instead of a chunk index
 * @param downtime how long the guest could not run, and who measured it
 * @param skipped  disks not copied, target to reason
 * @param chains   each copied disk's image chain on the hypervisor, top first, by target
 * @param increment where the backup sits in a chain of incremental backups; {@link Increment#STANDALONE}
 *                  for one that needs no other
 * @param verified whether the run read every file back and checked it against its chunk index before the
 *                 backup was complete ({@code --verify}); null in manifests written before it was recorded
 */
public record Manifest(int format, String toolVersion, String domainName, String domainUuid, String hypervisorUri,
                       BackupMode mode, DomainState stateFound, Instant start, Instant end,
                       Downtime downtime, List<BackedUpFile> files, Map<String, String> skipped,
                       Map<String, BackingChain> chains, Increment increment, Boolean verified) {

    public static final String FILE_NAME = "manifest.json";
    /** Bumped only when a field changes meaning or goes away; new fields keep the version. */
    public static final int FORMAT_VERSION = 2;
    /** The first format with chunk indexes; files of older manifests carry a whole-file SHA-256. */
    public static final int FIRST_CHUNKED_FORMAT = 2;

    public Manifest {
        if (format < 1 || format > FORMAT_VERSION) {
            throw new IllegalArgumentException("manifest format " + format + " is not one this version knows");
        }
        files = List.copyOf(files);
        for (BackedUpFile file : files) {
            boolean chunked = file.checksum() instanceof BackedUpFile.Chunked;
            if (chunked != (format >= FIRST_CHUNKED_FORMAT)) {
                throw new IllegalArgumentException(file.name() + ": a manifest of format " + format + " cannot hold "
                        + (chunked ? "a chunk index" : "a whole-file SHA-256"));
            }
        }
        skipped = Collections.unmodifiableMap(new LinkedHashMap<>(skipped));
        chains = Collections.unmodifiableMap(new LinkedHashMap<>(chains));
    }

    /** A manifest that does not say whether its files were read back, as older versions wrote them. */
    public Manifest(int format, String toolVersion, String domainName, String domainUuid, String hypervisorUri,
                    BackupMode mode, DomainState stateFound, Instant start, Instant end,
                    Downtime downtime, List<BackedUpFile> files, Map<String, String> skipped,
                    Map<String, BackingChain> chains, Increment increment) {
        this(format, toolVersion, domainName, domainUuid, hypervisorUri, mode, stateFound, start, end, downtime,
                files, skipped, chains, increment, null);
    }

    /** A manifest of the current format, as a backup writes it. */
    public Manifest(String toolVersion, String domainName, String domainUuid, String hypervisorUri,
                    BackupMode mode, DomainState stateFound, Instant start, Instant end,
                    Downtime downtime, List<BackedUpFile> files, Map<String, String> skipped,
                    Map<String, BackingChain> chains, Increment increment, boolean verified) {
        this(FORMAT_VERSION, toolVersion, domainName, domainUuid, hypervisorUri, mode, stateFound, start, end,
                downtime, files, skipped, chains, increment, verified);
    }

    /** A manifest of the current format whose files were not read back. */
    public Manifest(String toolVersion, String domainName, String domainUuid, String hypervisorUri,
                    BackupMode mode, DomainState stateFound, Instant start, Instant end,
                    Downtime downtime, List<BackedUpFile> files, Map<String, String> skipped,
                    Map<String, BackingChain> chains, Increment increment) {
        this(toolVersion, domainName, domainUuid, hypervisorUri, mode, stateFound, start, end, downtime, files,
                skipped, chains, increment, false);
    }

    /** A manifest of the current format of a backup that stands alone. */
    public Manifest(String toolVersion, String domainName, String domainUuid, String hypervisorUri,
                    BackupMode mode, DomainState stateFound, Instant start, Instant end,
                    Downtime downtime, List<BackedUpFile> files, Map<String, String> skipped,
                    Map<String, BackingChain> chains) {
        this(toolVersion, domainName, domainUuid, hypervisorUri, mode, stateFound, start, end, downtime, files,
                skipped, chains, Increment.STANDALONE);
    }

    /**
     * Reads the manifest of the backup in {@code backupDir}.
     *
     * @throws InvalidManifestException when it is not the manifest of a complete backup this version can
     *         read: a newer format, a result other than complete, a file named outside the folder
     * @throws IOException when it cannot be read at all
     */
    public static Manifest read(Path backupDir) throws IOException {
        return parse(Files.readString(backupDir.resolve(FILE_NAME), StandardCharsets.UTF_8));
    }

    /** Reads a manifest's text; see {@link #read}. */
    public static Manifest parse(String json) throws InvalidManifestException {
        return ManifestReader.parse(json);
    }

    public String toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("format", format);
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
        if (verified != null) {
            json.put("verified", verified);
        }
        json.put("files", files.stream().map(BackedUpFile::toJson).toList());
        json.put("skipped", skipped);
        Map<String, Object> sources = new LinkedHashMap<>();
        chains.forEach((target, chain) -> sources.put(target, chain.toJson()));
        json.put("sourceChains", sources);
        json.putAll(increment.toJson());
        return Json.write(json);
    }

    /** The downtime in ms, -1 when unknown. */
    public long downtimeMillis() {
        return downtime.millis();
    }

    public long totalBytes() {
        return files.stream().mapToLong(BackedUpFile::size).sum();
    }

    /** The data the run moved for all its files; -1 when a file does not say (older manifests). */
    public long dataBytes() {
        long sum = 0;
        for (BackedUpFile file : files) {
            if (file.dataBytes() == null) {
                return -1;
            }
            sum += file.dataBytes();
        }
        return sum;
    }
}
