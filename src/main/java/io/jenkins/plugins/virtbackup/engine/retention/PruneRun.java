package io.jenkins.plugins.virtbackup.engine.retention;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.CompletedBackup;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.recovery.DomainLock;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.retention.Retention.Candidate;
import io.jenkins.plugins.virtbackup.engine.retention.Retention.Verdict;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code virt-backup prune}: removes the backups of one domain folder that a {@link RetentionPolicy}
 * does not keep. Only complete backups of our own layout are candidates (a folder named by its UTC
 * start, with a manifest this version reads); unfinished backups, other folders and files are never
 * touched. A backup that a kept inc or diff reads through stays, whatever the rules say, so that
 * every kept point still restores. A backup is first renamed to {@code NAME.pruning}, so that a prune
 * cut short never leaves a half-deleted folder that looks complete; the next prune finishes it.
 */
public final class PruneRun {
    static final String PRUNING_SUFFIX = ".pruning";

    private final BackupLog log;
    private final StateDirectory state;
    private final ZoneId zone;

    /** @param zone the local time zone the rules' hours, days, weeks, months and years are in */
    public PruneRun(BackupLog log, StateDirectory state, ZoneId zone) {
        this.log = log;
        this.state = state;
        this.zone = zone;
    }

    /** What a prune decided for one domain folder: backup names, newest first. */
    public record Outcome(Path domainFolder, List<String> kept, List<String> removed) {
    }

    public Outcome prune(Path domainFolder, RetentionPolicy policy, boolean dryRun) throws BackupException {
        if (!Files.isDirectory(domainFolder, LinkOption.NOFOLLOW_LINKS)) {
            throw new BackupException(ExitStatus.NOT_FOUND, "no backups in " + domainFolder
                    + (Files.isSymbolicLink(domainFolder) ? " (a symbolic link, which prune does not follow)" : ""));
        }
        try (DomainLock lock = DomainLock.acquireFolder(state, domainFolder, "prune")) {
            finishEarlierPrunes(domainFolder, dryRun);
            Map<String, Manifest> backups = completeBackups(domainFolder);
            List<Candidate> candidates = new ArrayList<>();
            backups.forEach((name, manifest) -> candidates.add(new Candidate(name, startOf(name, manifest))));
            Map<String, Verdict> verdicts = new LinkedHashMap<>(Retention.decide(candidates, policy, zone));
            keepWhatKeptBackupsReadThrough(verdicts, backups);
            log.milestone("prune of " + domainFolder + " (" + policy + ", " + zone.getId() + " time)"
                    + (dryRun ? ": dry run, nothing is removed" : ""));
            List<String> kept = new ArrayList<>();
            List<String> removed = new ArrayList<>();
            for (Map.Entry<String, Verdict> entry : verdicts.entrySet()) {
                Verdict verdict = entry.getValue();
                log.milestone((verdict.keep() ? "keep   " : dryRun ? "would remove " : "remove ") + entry.getKey()
                        + "  (" + verdict.reason() + ")");
                (verdict.keep() ? kept : removed).add(entry.getKey());
            }
            if (!dryRun) {
                for (String name : removed) {
                    remove(domainFolder.resolve(name));
                }
            }
            log.milestone("prune of " + domainFolder + ": " + kept.size() + " kept, " + removed.size()
                    + (dryRun ? " would be removed" : " removed"));
            return new Outcome(domainFolder, kept, removed);
        }
    }

    /**
     * {@code --keep-*} on a backup run: prunes the folder of a backup just completed.
     *
     * @throws BackupException with the prune's status, saying that the backup itself is complete
     */
    public void pruneAfter(CompletedBackup backup, RetentionPolicy policy) throws BackupException {
        if (!policy.keepsSomething()) {
            return;
        }
        try {
            prune(backup.directory().getParent(), policy, false);
        } catch (BackupException e) {
            throw new BackupException(e.status(), "the backup is complete, in " + backup.directory()
                    + ", but the prune after it failed: " + e.getMessage(), e);
        }
    }

    /** Every complete backup of our layout in the folder, by name, with its manifest. */
    private Map<String, Manifest> completeBackups(Path domainFolder) throws BackupException {
        Map<String, Manifest> backups = new LinkedHashMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(domainFolder)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (!BackupDirectory.isCompleteName(name) || !Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                Optional<Manifest> manifest = readManifest(entry);
                if (manifest.isEmpty()) {
                    log.notice("left alone: " + entry + " has no manifest this version reads");
                } else if (!manifest.get().domainName().equals(domainFolder.getFileName().toString())) {
                    log.notice("left alone: " + entry + " is a backup of domain '" + manifest.get().domainName() + "'");
                } else {
                    backups.put(name, manifest.get());
                }
            }
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot list " + domainFolder + ": "
                    + BackupDirectory.describe(e), e);
        }
        return backups;
    }

    private static Optional<Manifest> readManifest(Path backup) {
        try {
            return Optional.of(Manifest.read(backup));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The UTC stamp the folder is named by; the manifest's start for a name the stamp does not parse. */
    private static Instant startOf(String name, Manifest manifest) {
        return BackupDirectory.stampOf(name).orElse(manifest.start());
    }

    /**
     * An inc or diff reads its parent's files, and those of the parent's parent: each backup a kept
     * backup builds on is kept with it.
     */
    private static void keepWhatKeptBackupsReadThrough(Map<String, Verdict> verdicts, Map<String, Manifest> backups) {
        for (String name : List.copyOf(verdicts.keySet())) {
            if (!verdicts.get(name).keep()) {
                continue;
            }
            String child = name;
            String parent = backups.get(name).increment().parent();
            while (parent != null && backups.containsKey(parent)) {
                if (!verdicts.get(parent).keep()) {
                    verdicts.put(parent, new Verdict(true, "needed by " + child + ", which reads through it"));
                }
                child = parent;
                parent = backups.get(parent).increment().parent();
            }
        }
    }

    private void remove(Path backup) throws BackupException {
        Path pruning = backup.resolveSibling(backup.getFileName() + PRUNING_SUFFIX);
        try {
            Files.move(backup, pruning);
            BackupDirectory.syncDirectory(backup.getParent());
            BackupDirectory.deleteTree(pruning);
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot remove " + backup + ": "
                    + BackupDirectory.describe(e), e);
        }
    }

    /** A prune cut short left {@code NAME.pruning}: no backup any more, only the rest of a deletion. */
    private void finishEarlierPrunes(Path domainFolder, boolean dryRun) throws BackupException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(domainFolder, "*" + PRUNING_SUFFIX)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (BackupDirectory.isCompleteName(name.substring(0, name.length() - PRUNING_SUFFIX.length()))
                        && Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    log.notice((dryRun ? "would finish" : "finishing") + " the removal of " + entry
                            + ", left by a prune that was cut short");
                    if (!dryRun) {
                        BackupDirectory.deleteTree(entry);
                    }
                }
            }
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot list " + domainFolder + ": "
                    + BackupDirectory.describe(e), e);
        }
    }
}
