package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The engine's result file as the step reads it (what the engine writes: {@code GluedBackupIT}). */
class EngineResultTest {
    @Test
    void aCompleteBackupAndAFailedRun() {
        assertThat(EngineResult.parse("{\n  \"status\": 0,\n  \"backup\": \"/srv/b/web/20261203T021500Z\",\n"
                + "  \"domain\": \"web\"\n}\n"))
                .isEqualTo(new EngineResult(0, "/srv/b/web/20261203T021500Z", "web"));
        assertThat(EngineResult.parse("{\"status\": 3, \"backup\": null, \"domain\": \"nosuch\"}"))
                .isEqualTo(new EngineResult(3, null, "nosuch"));
    }

    @Test
    void theEmptyFileTheStepCreatedMeansTheEngineWroteNone() {
        assertThat(EngineResult.parse("")).isNull();
        assertThat(EngineResult.parse("\n")).isNull();
    }

    @Test
    void anythingElseIsRefusedWithAReason() {
        assertThatThrownBy(() -> EngineResult.parse("[0]")).hasMessage("not a JSON object");
        assertThatThrownBy(() -> EngineResult.parse("{\"backup\": \"/b\"}")).hasMessage("no status number");
        assertThatThrownBy(() -> EngineResult.parse("{\"status\": 0, \"backup\": 7}"))
                .hasMessage("backup is not a string");
        assertThatThrownBy(() -> EngineResult.parse("{\"status\": 0, \"backup\": \"/b\""))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
