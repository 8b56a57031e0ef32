package io.jenkins.plugins.virtbackup.engine.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.modes.Downtime;
import io.jenkins.plugins.virtbackup.engine.recovery.DomainLock;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.engine.store.Increment;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Prune on real backup folders: only complete backups of the domain go, and never one a kept backup reads. */
class PruneRunTest {
    @TempDir
    Path dir;
    Path web;
    StateDirectory state;
    final ByteArrayOutputStream console = new ByteArrayOutputStream();

    @BeforeEach
    void setUp() throws IOException {
        web = Files.createDirectories(dir.resolve("backups/web"));
        state = new StateDirectory(dir.resolve("state"));
    }

    private PruneRun.Outcome prune(RetentionPolicy policy, boolean dryRun) throws BackupException {
        try (BackupLog log = new BackupLog(new PrintStream(console, true, StandardCharsets.UTF_8), false,
                (severity, message) -> { })) {
            return new PruneRun(log, state, ZoneOffset.UTC).prune(web, policy, dryRun);
        }
    }

    /** A complete backup folder with a manifest; {@code parent} null for a full. */
    private Path backup(String name, String domain, BackupLevel level, String parent) throws IOException {
        Path folder = Files.createDirectories(web.resolve(name));
        Instant start = BackupDirectory.stampOf(name).orElse(Instant.parse("2026-01-01T00:00:00Z"));
        Increment increment = level == BackupLevel.FULL && parent == null
                ? new Increment(BackupLevel.FULL, null, new Increment.Checkpoint("virt-backup-" + name, "<x/>"), Map.of())
                : new Increment(level, parent, new Increment.Checkpoint("virt-backup-" + name, "<x/>"), Map.of());
        Manifest manifest = new Manifest("test", domain, "u-1", "test:///default", BackupMode.LIVE, DomainState.RUNNING,
                start, start.plusSeconds(60), new Downtime(5, Downtime.HYPERVISOR), List.of(), Map.of(), Map.of(),
                increment);
        Files.writeString(folder.resolve(Manifest.FILE_NAME), manifest.toJson());
        Files.writeString(folder.resolve("vda.qcow2"), "data of " + name);
        return folder;
    }

    private Path full(String name) throws IOException {
        return backup(name, "web", BackupLevel.FULL, null);
    }

    private List<String> left() throws IOException {
        try (Stream<Path> entries = Files.list(web)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private String text() {
        return console.toString(StandardCharsets.UTF_8);
    }

    @Test
    void onlyCompleteBackupsOfTheDomainAreCandidatesAndTheRestIsLeftAlone() throws Exception {
        full("20261203T020000Z");
        full("20261202T020000Z");
        full("20261201T020000Z");
        full("20261201T020000Z-2");
        Files.createDirectories(web.resolve("20261130T020000Z.partial"));
        Files.createDirectories(web.resolve("notes"));
        Files.writeString(web.resolve("README"), "mine");
        Files.createDirectories(web.resolve("20261129T020000Z"));  // no manifest
        backup("20261128T020000Z", "db", BackupLevel.FULL, null);  // another domain's backup, misplaced

        PruneRun.Outcome outcome = prune(new RetentionPolicy(1, 0, 0, 0, 0, 0), false);

        assertThat(outcome.kept()).containsExactly("20261203T020000Z");
        assertThat(outcome.removed()).containsExactly("20261202T020000Z", "20261201T020000Z-2", "20261201T020000Z");
        assertThat(left()).containsExactly("20261128T020000Z", "20261129T020000Z", "20261130T020000Z.partial",
                "20261203T020000Z", "README", "notes");
        assertThat(text()).contains("keep   20261203T020000Z  (keep-last)", "remove 20261202T020000Z  (no rule keeps it)",
                "left alone: " + web.resolve("20261129T020000Z") + " has no manifest",
                "is a backup of domain 'db'", ": 1 kept, 3 removed");
    }

    @Test
    void aDryRunChangesNothingAndSaysWhatWouldGo() throws Exception {
        full("20261203T020000Z");
        full("20261202T020000Z");
        Map<String, String> before = Trees.snapshot(web);

        PruneRun.Outcome outcome = prune(new RetentionPolicy(1, 0, 0, 0, 0, 0), true);

        assertThat(outcome.removed()).containsExactly("20261202T020000Z");
        assertThat(Trees.snapshot(web)).isEqualTo(before);
        assertThat(text()).contains("dry run, nothing is removed", "would remove 20261202T020000Z",
                "1 kept, 1 would be removed");
    }

    /**
     * keep-last 1 keeps only the newest inc by its rule; it reads through the inc before it and the
     * full, which stay with it. An older chain nobody reads goes whole.
     */
    @Test
    void whatAKeptIncOrDiffReadsThroughStays() throws Exception {
        full("20261124T020000Z");
        backup("20261125T020000Z", "web", BackupLevel.INC, "20261124T020000Z");
        full("20261201T020000Z");
        backup("20261202T020000Z", "web", BackupLevel.INC, "20261201T020000Z");
        backup("20261203T020000Z", "web", BackupLevel.INC, "20261202T020000Z");
        backup("20261203T140000Z", "web", BackupLevel.DIFF, "20261201T020000Z");

        PruneRun.Outcome outcome = prune(new RetentionPolicy(0, 0, 1, 0, 0, 0), false);

        assertThat(outcome.kept()).containsExactly("20261203T140000Z", "20261201T020000Z");
        assertThat(outcome.removed()).containsExactly("20261203T020000Z", "20261202T020000Z", "20261125T020000Z",
                "20261124T020000Z");
        assertThat(text()).contains("keep   20261201T020000Z  (needed by 20261203T140000Z, which reads through it)");

        backup("20261203T150000Z", "web", BackupLevel.INC, "20261203T140000Z");
        PruneRun.Outcome chain = prune(new RetentionPolicy(1, 0, 0, 0, 0, 0), false);
        assertThat(chain.kept()).containsExactly("20261203T150000Z", "20261203T140000Z", "20261201T020000Z");
        assertThat(chain.removed()).isEmpty();
    }

    @Test
    void aPruneCutShortIsFinishedByTheNext() throws Exception {
        full("20261203T020000Z");
        Path half = Files.createDirectories(web.resolve("20261130T020000Z.pruning"));
        Files.writeString(half.resolve("vda.raw.chunks"), "rest");
        Files.createDirectories(web.resolve("photos.pruning"));  // not ours by its name

        prune(new RetentionPolicy(1, 0, 0, 0, 0, 0), false);

        assertThat(left()).containsExactly("20261203T020000Z", "photos.pruning");
        assertThat(text()).contains("finishing the removal of " + half);
    }

    @Test
    void aBackupRunningIntoTheFolderMakesPruneWait() throws Exception {
        full("20261203T020000Z");
        full("20261202T020000Z");

        try (DomainLock backup = DomainLock.acquireFolder(state, web, "backup")) {
            assertThatThrownBy(() -> prune(new RetentionPolicy(1, 0, 0, 0, 0, 0), false))
                    .isInstanceOfSatisfying(BackupException.class, e -> {
                        assertThat(e.status()).isEqualTo(ExitStatus.BUSY);
                        assertThat(e.getMessage()).contains("the backups in " + web, "is busy: backup by process");
                    });
        }
        assertThat(left()).containsExactly("20261202T020000Z", "20261203T020000Z");
    }

    @Test
    void aMissingOrLinkedDomainFolderIsNotFound() throws Exception {
        Files.delete(web);
        assertThatThrownBy(() -> prune(new RetentionPolicy(1, 0, 0, 0, 0, 0), false))
                .isInstanceOfSatisfying(BackupException.class,
                        e -> assertThat(e.status()).isEqualTo(ExitStatus.NOT_FOUND));
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Files.createSymbolicLink(web, elsewhere);
        assertThatThrownBy(() -> prune(new RetentionPolicy(1, 0, 0, 0, 0, 0), false))
                .hasMessageContaining("a symbolic link, which prune does not follow");
    }
}
