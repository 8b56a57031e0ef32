package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkIndex;
import io.jenkins.plugins.virtbackup.engine.copy.FileDigest;
import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.modes.Downtime;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import io.jenkins.plugins.virtbackup.engine.store.Increment;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import java.time.Instant;
import java.util.AbstractMap.SimpleEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BackupSummaryTest {
    private final BackupOptions options = new BackupOptions("web", null, null, null, null, "/srv/b", 300, false, false,
            false);

    @Test
    void readsWhatTheEngineWrites() {
        Manifest manifest = new Manifest("1.2.3", "web", "uuid-1", "test:///x", BackupMode.SUSPEND,
                DomainState.values()[0], Instant.parse("2025-01-01T00:00:00Z"), Instant.parse("2025-01-01T00:00:09Z"),
                new Downtime(1234, Downtime.HYPERVISOR), List.of(
                        new BackedUpFile("domain.xml", "definition", new FileDigest(100, new ChunkIndex.Ref("domain.xml.chunks", ChunkIndex.CHUNK_SIZE, 1, 1, "a".repeat(64))), null, null, null),
                        new BackedUpFile("vda.raw", "disk", new FileDigest(8L << 30, new ChunkIndex.Ref("vda.raw.chunks", ChunkIndex.CHUNK_SIZE, 8192, 3, "b".repeat(64))), "vda", "/img/w.raw", "raw")),
                Map.of(), Map.of());

        Map<String, Object> map = BackupSummary.fromManifest(manifest.toJson(), "/srv/b/web/20250101T000000Z").toMap();

        assertThat(map).containsExactly(
                Map.entry("domain", "web"), Map.entry("mode", "suspend"), Map.entry("level", "full"),
                Map.entry("backupDir", "/srv/b/web/20250101T000000Z"), new SimpleEntry<>("parent", null),
                Map.entry("files", List.of("domain.xml", "vda.raw")), Map.entry("bytes", 100 + (8L << 30)),
                Map.entry("downtimeMs", 1234L), Map.entry("result", "complete"),
                Map.entry("start", "2025-01-01T00:00:00Z"), Map.entry("end", "2025-01-01T00:00:09Z"));
        assertThat(map.get("files")).isInstanceOf(ArrayList.class);
    }

    /** The manifest names the parent by its folder name; the map gives its path on the node, beside the backup. */
    @Test
    void anIncrementalNamesItsLevelAndItsParentsDirectory() {
        Manifest manifest = new Manifest("1.2.3", "web", "uuid-1", "test:///x", BackupMode.LIVE,
                DomainState.RUNNING, Instant.parse("2025-01-02T00:00:00Z"), Instant.parse("2025-01-02T00:00:09Z"),
                new Downtime(-1, Downtime.UNKNOWN), List.of(), Map.of(), Map.of(),
                new Increment(BackupLevel.INC, "20250101T000000Z", null, Map.of()));

        assertThat(BackupSummary.fromManifest(manifest.toJson(), "/srv/b/web/20250102T000000Z").toMap())
                .containsEntry("level", "inc").containsEntry("parent", "/srv/b/web/20250101T000000Z")
                .containsEntry("mode", "live");
    }

    @Test
    void aDowntimeNobodyMeasuredStaysUnknownInsteadOfBecomingZero() {
        Manifest manifest = new Manifest("1.2.3", "web", "uuid-1", "test:///x", BackupMode.LIVE,
                DomainState.RUNNING, Instant.parse("2025-01-01T00:00:00Z"), Instant.parse("2025-01-01T00:00:09Z"),
                new Downtime(-1, Downtime.UNKNOWN), List.of(), Map.of(), Map.of());

        assertThat(manifest.toJson()).contains("\"downtimeMs\": null").contains("\"downtimeMeasuredBy\": \"unknown\"");
        assertThat(BackupSummary.fromManifest(manifest.toJson(), "/srv/b/web/20250101T000000Z").toMap())
                .containsEntry("downtimeMs", null);
    }

    @Test
    void notAManifest() {
        assertThatThrownBy(() -> BackupSummary.fromManifest("{\"format\": 1}", "/x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("not a manifest of virt-backup (tool: null)");
        assertThatThrownBy(() -> BackupSummary.fromManifest("{\"format\": 3}", "/x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("manifest format 3 is newer");
    }

    @Test
    void readsAFormat1Manifest() {
        String json = """
                {"format": 1, "tool": "virt-backup", "version": "0.9", "domain": {"name": "web", "uuid": "u"},
                 "hypervisor": "test:///default", "mode": "shutdown", "stateFound": "shut_off",
                 "start": "2026-11-30T02:30:00Z", "end": "2026-11-30T02:31:00Z", "downtimeMs": 0,
                 "downtimeMeasuredBy": "not-running", "result": "complete",
                 "files": [{"name": "domain.xml", "kind": "definition", "size": 40, "sha256": "%s",
                            "target": null, "source": "test:///default", "format": null},
                           {"name": "vda.raw", "kind": "disk", "size": 1024, "sha256": "%s",
                            "target": "vda", "source": "/img/web.raw", "format": "raw"}],
                 "skipped": {}, "sourceChains": {}}
                """.formatted("c".repeat(64), "d".repeat(64));

        assertThat(BackupSummary.fromManifest(json, "/srv/b/web/20261130T023000Z").toMap())
                .containsEntry("files", List.of("domain.xml", "vda.raw")).containsEntry("bytes", 1064L)
                .containsEntry("downtimeMs", 0L).containsEntry("mode", "shutdown")
                .as("a backup from before levels stands alone").containsEntry("level", "full")
                .containsEntry("parent", null);
    }
}
