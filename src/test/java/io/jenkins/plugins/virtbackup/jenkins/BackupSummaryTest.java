package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.copy.FileDigest;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.modes.Downtime;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BackupSummaryTest {
    private final BackupOptions options = new BackupOptions("web", null, null, null, "/srv/b", 300, false, false,
            false);

    @Test
    void readsWhatTheEngineWrites() {
        Manifest manifest = new Manifest("1.2.3", "web", "uuid-1", "test:///x", BackupMode.SUSPEND,
                DomainState.values()[0], Instant.parse("2025-01-01T00:00:00Z"), Instant.parse("2025-01-01T00:00:09Z"),
                new Downtime(1234, Downtime.HYPERVISOR), List.of(
                        new BackedUpFile("domain.xml", "definition", new FileDigest(100, "a"), null, null, null),
                        new BackedUpFile("vda.raw", "disk", new FileDigest(8L << 30, "b"), "vda", "/img/w.raw", "raw")),
                Map.of(), Map.of());

        Map<String, Object> map = BackupSummary.fromManifest(manifest.toJson(), "/srv/b/web/20250101T000000Z").toMap();

        assertThat(map).containsExactly(
                Map.entry("domain", "web"), Map.entry("mode", "suspend"),
                Map.entry("backupDir", "/srv/b/web/20250101T000000Z"),
                Map.entry("files", List.of("domain.xml", "vda.raw")), Map.entry("bytes", 100 + (8L << 30)),
                Map.entry("downtimeMs", 1234L), Map.entry("result", "complete"),
                Map.entry("start", "2025-01-01T00:00:00Z"), Map.entry("end", "2025-01-01T00:00:09Z"));
        assertThat(map.get("files")).isInstanceOf(ArrayList.class);
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
                .isInstanceOf(RuntimeException.class);
    }

    @Test
    void backupDirectoryFromTheCompletionLine() {
        String line = "virt-backup: backup of domain 'web' complete: 3 file(s), 1.0 MiB, guest downtime 5 ms, in ";
        assertThat(BackupSummary.backupDirFromCompleteLine(line + "/srv/b/web/20250101T000000Z", options))
                .isEqualTo("/srv/b/web/20250101T000000Z");
        assertThat(BackupSummary.backupDirFromCompleteLine(line + "/srv/b/web/20250101T000000Z-2", options))
                .isEqualTo("/srv/b/web/20250101T000000Z-2");
        assertThat(BackupSummary.backupDirFromCompleteLine(line + "/elsewhere/web/20250101T000000Z", options)).isNull();
        assertThat(BackupSummary.backupDirFromCompleteLine(line + "/srv/b/web/20250101T000000Z.partial", options))
                .isNull();
        assertThat(BackupSummary.backupDirFromCompleteLine(line + "/srv/b/web/../../etc", options)).isNull();
        assertThat(BackupSummary.backupDirFromCompleteLine(null, options)).isNull();
    }
}
