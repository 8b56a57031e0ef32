package io.jenkins.plugins.virtbackup.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.modes.Downtime;
import io.jenkins.plugins.virtbackup.engine.store.Increment;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The engine's result file as the step reads it (what the engine writes: {@code GluedBackupIT}). */
class RunResultTest {
    @Test
    void aCompleteBackupAndAFailedRun() {
        assertThat(RunResult.parse("{\n  \"status\": 0,\n  \"backup\": \"/srv/b/web/20261203T021500Z\",\n"
                + "  \"domain\": \"web\",\n  \"level\": \"inc\",\n  \"parent\": \"/srv/b/web/20261202T021500Z\"\n}\n"))
                .isEqualTo(new RunResult(0, "/srv/b/web/20261203T021500Z", "web", "inc",
                        "/srv/b/web/20261202T021500Z"));
        assertThat(RunResult.parse("{\"status\": 3, \"backup\": null, \"domain\": \"nosuch\", \"level\": null, "
                + "\"parent\": null}")).isEqualTo(RunResult.withoutBackup(3, "nosuch"));
    }

    /** A result written before levels existed (an engine on a node not yet updated, say). */
    @Test
    void aResultWithoutLevelAndParentReadsThemAsNull() {
        assertThat(RunResult.parse("{\"status\": 0, \"backup\": \"/srv/b/web/20261203T021500Z\", \"domain\": \"web\"}"))
                .isEqualTo(new RunResult(0, "/srv/b/web/20261203T021500Z", "web", null, null));
    }

    @Test
    void whatItWritesItReadsBack() {
        RunResult result = new RunResult(0, "/srv/b/web/20261203T021500Z", "web", "diff",
                "/srv/b/web/20261201T021500Z");
        assertThat(RunResult.parse(result.toJson())).isEqualTo(result);
        assertThat(RunResult.parse(RunResult.withoutBackup(6, "web").toJson()))
                .isEqualTo(new RunResult(6, null, "web", null, null));
    }

    @Test
    void aCompletedBackupGivesItsLevelAndItsParentsFolderBesideIt() {
        Path backup = Path.of("/srv/b/web/20261203T021500Z");

        assertThat(RunResult.of(0, new CompletedBackup(backup, manifest(Increment.STANDALONE)), "web"))
                .isEqualTo(new RunResult(0, backup.toString(), "web", "full", null));
        Increment inc = new Increment(BackupLevel.INC, "20261202T021500Z", null, Map.of());
        assertThat(RunResult.of(0, new CompletedBackup(backup, manifest(inc)), "web"))
                .isEqualTo(new RunResult(0, backup.toString(), "web", "inc", "/srv/b/web/20261202T021500Z"));
    }

    @Test
    void theEmptyFileTheStepCreatedMeansTheEngineWroteNone() {
        assertThat(RunResult.parse("")).isNull();
        assertThat(RunResult.parse("\n")).isNull();
    }

    @Test
    void anythingElseIsRefusedWithAReason() {
        assertThatThrownBy(() -> RunResult.parse("[0]")).hasMessage("not a JSON object");
        assertThatThrownBy(() -> RunResult.parse("{\"backup\": \"/b\"}")).hasMessage("no status number");
        assertThatThrownBy(() -> RunResult.parse("{\"status\": 0, \"backup\": 7}"))
                .hasMessage("backup is not a string");
        assertThatThrownBy(() -> RunResult.parse("{\"status\": 0, \"backup\": \"/b\", \"level\": 1}"))
                .hasMessage("level is not a string");
        assertThatThrownBy(() -> RunResult.parse("{\"status\": 0, \"backup\": \"/b\""))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static Manifest manifest(Increment increment) {
        return new Manifest("1.2.3", "web", "uuid-1", "test:///x", BackupMode.LIVE, DomainState.RUNNING,
                Instant.parse("2026-12-03T02:15:00Z"), Instant.parse("2026-12-03T02:15:09Z"),
                new Downtime(-1, Downtime.UNKNOWN), List.of(), Map.of(), Map.of(), increment);
    }
}
