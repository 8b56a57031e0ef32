package io.jenkins.plugins.virtbackup.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The engine's result file as the step reads it (what the engine writes: {@code GluedBackupIT}). */
class RunResultTest {
    @Test
    void aCompleteBackupAndAFailedRun() {
        assertThat(RunResult.parse("{\n  \"status\": 0,\n  \"backup\": \"/srv/b/web/20261203T021500Z\",\n"
                + "  \"domain\": \"web\"\n}\n"))
                .isEqualTo(new RunResult(0, "/srv/b/web/20261203T021500Z", "web"));
        assertThat(RunResult.parse("{\"status\": 3, \"backup\": null, \"domain\": \"nosuch\"}"))
                .isEqualTo(new RunResult(3, null, "nosuch"));
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
        assertThatThrownBy(() -> RunResult.parse("{\"status\": 0, \"backup\": \"/b\""))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
