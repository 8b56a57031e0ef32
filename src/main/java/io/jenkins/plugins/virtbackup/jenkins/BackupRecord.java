package io.jenkins.plugins.virtbackup.jenkins;

import io.jenkins.plugins.virtbackup.engine.BackupEngine;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One backup a build made, or one domain it failed to back up, as the build page shows it. Taken from
 * the backup's manifest (through the engine's one reader) when it completed, from the engine's result
 * when it failed; kept with the build as plain fields, so the page never needs the node again.
 */
public final class BackupRecord {
    static final String COMPLETE = "complete";
    static final String FAILED = "failed";

    private final String domain;
    private final String result;
    private final String mode;
    private final String level;
    private final String backupDir;
    private final List<ImageRecord> images;
    /** Every file's data moved, the definition and RAM included; -1 when the manifest does not say. */
    private final long dataBytes;
    private final long durationMs;
    /** -1 when nobody measured it. */
    private final long downtimeMs;
    /** Null when the manifest does not say. */
    private final Boolean verified;
    private final String logArtifact;
    private final String manifestArtifact;
    private final int exitCode;
    private final String error;

    private BackupRecord(String domain, String result, String mode, String level, String backupDir,
                         List<ImageRecord> images, long dataBytes, long durationMs, long downtimeMs, Boolean verified,
                         String logArtifact, String manifestArtifact, int exitCode, String error) {
        this.domain = domain;
        this.result = result;
        this.mode = mode;
        this.level = level;
        this.backupDir = backupDir;
        this.images = new ArrayList<>(images);
        this.dataBytes = dataBytes;
        this.durationMs = durationMs;
        this.downtimeMs = downtimeMs;
        this.verified = verified;
        this.logArtifact = logArtifact;
        this.manifestArtifact = manifestArtifact;
        this.exitCode = exitCode;
        this.error = error;
    }

    /**
     * A complete backup.
     *
     * @param backupDir its folder on the node
     * @param artifacts archive path to file name, as {@link BackupRunner#artifacts} archived them
     */
    static BackupRecord complete(Manifest manifest, String backupDir, Map<String, String> artifacts) {
        List<ImageRecord> images = new ArrayList<>();
        for (BackedUpFile file : manifest.files()) {
            if (BackedUpFile.DISK.equals(file.kind()) || BackedUpFile.BACKING.equals(file.kind())) {
                images.add(ImageRecord.of(file));
            }
        }
        long duration = Duration.between(manifest.start(), manifest.end()).toMillis();
        long downtime = manifest.downtime().isKnown() ? manifest.downtime().millis() : -1;
        return new BackupRecord(manifest.domainName(), COMPLETE, manifest.mode().cliName(),
                manifest.increment().level().cliName(), backupDir, images, manifest.dataBytes(), duration, downtime,
                manifest.verified(), archivePath(artifacts, BackupEngine.RUN_LOG_FILE),
                archivePath(artifacts, Manifest.FILE_NAME), 0, null);
    }

    /** A domain of a many-domain run that ended without a backup. */
    static BackupRecord failed(String domain, int exitCode, String error, long durationMs) {
        return new BackupRecord(domain, FAILED, null, null, null, List.of(), -1, durationMs, -1, null, null, null,
                exitCode, error);
    }

    private static String archivePath(Map<String, String> artifacts, String name) {
        return artifacts.entrySet().stream().filter(e -> e.getValue().equals(name)).map(Map.Entry::getKey)
                .findFirst().orElse(null);
    }

    public String getDomain() {
        return domain;
    }

    /** {@code complete} or {@code failed}. */
    public String getResult() {
        return result;
    }

    public boolean isComplete() {
        return COMPLETE.equals(result);
    }

    /** The mode the backup was taken in; null for a failed domain. */
    public String getMode() {
        return mode;
    }

    /** full, inc or diff: what a level of auto became; null for a failed domain. */
    public String getLevel() {
        return level;
    }

    /** The backup's folder on the node that ran it. */
    public String getBackupDir() {
        return backupDir;
    }

    /** The disk images, each disk's top image first, then the images below it. */
    public List<ImageRecord> getImages() {
        return List.copyOf(images);
    }

    /** The size of the disk images, holes included. */
    public String getImagesSize() {
        return Figures.bytes(images.stream().mapToLong(ImageRecord::sizeBytes).sum());
    }

    /** The data the run moved, every file of the backup counted. */
    public String getDataMoved() {
        return Figures.bytes(dataBytes);
    }

    public String getDuration() {
        return Figures.duration(durationMs);
    }

    /** Data moved per second of the whole run. */
    public String getThroughput() {
        return Figures.throughput(dataBytes, durationMs);
    }

    public String getDowntime() {
        return Figures.duration(downtimeMs);
    }

    /** Whether every file was read back and checked before the backup counted. */
    public String getVerified() {
        if (verified == null) {
            return Messages.BuildPages_unknown();
        }
        return verified ? Messages.BuildPages_verified() : Messages.BuildPages_notVerified();
    }

    /** The archived run log, relative to the build's artifacts, URL-encoded; null for a failed domain. */
    public String getLogHref() {
        return href(logArtifact);
    }

    /** The archived manifest, relative to the build's artifacts, URL-encoded; null for a failed domain. */
    public String getManifestHref() {
        return href(manifestArtifact);
    }

    /** The engine's exit code; 0 for a complete backup. */
    public int getExitCode() {
        return exitCode;
    }

    /** Why a failed domain failed: the engine's last error line, or null. */
    public String getError() {
        return error;
    }

    long dataBytes() {
        return dataBytes;
    }

    long durationMillis() {
        return durationMs;
    }

    long downtimeMillis() {
        return downtimeMs;
    }

    private static String href(String archivePath) {
        if (archivePath == null) {
            return null;
        }
        List<String> segments = new ArrayList<>();
        for (String segment : archivePath.split("/")) {
            segments.add(URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return String.join("/", segments);
    }
}
