package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.restore.RestoreResult;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreResult.TestOutcome;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The maps the restore steps return, from result files as the engine writes them (through
 * {@link RestoreResult#toJson()} and read back with {@link RestoreResult#parse}, as the step does).
 */
class RestoreSummaryTest {
    private static final String BACKUP = "/srv/backup/web/20261203T021500Z";

    @Test
    void aRestoreReturnsWhatItMade() {
        Map<String, String> disks = new LinkedHashMap<>();
        disks.put("vda", "/srv/restore/web-copy-vda.qcow2");
        disks.put("vdb", "/srv/restore/web-copy-vdb.raw");
        RestoreResult written = new RestoreResult(0, BACKUP, "web-copy", "6a1f0c2e-0000-4000-8000-000000000001",
                disks, "booted", null);

        Map<String, Object> map = RestoreSummary.ofRestore(RestoreResult.parse(written.toJson()));

        assertThat(map).containsOnlyKeys("status", "backup", "domain", "uuid", "disks", "started")
                .containsEntry("status", 0).containsEntry("backup", BACKUP).containsEntry("domain", "web-copy")
                .containsEntry("uuid", "6a1f0c2e-0000-4000-8000-000000000001").containsEntry("started", "booted");
        assertThat(map.get("disks")).isEqualTo(disks).isInstanceOf(LinkedHashMap.class);
        assertThat(map.keySet()).as("in the documented order").containsExactly("status", "backup", "domain", "uuid",
                "disks", "started");
        assertPlainValues(map);
    }

    @Test
    void aDefinedButUnstartedRestoreHasNoStart() {
        RestoreResult written = new RestoreResult(0, BACKUP, "web", "u", Map.of("vda", "/var/lib/web.qcow2"), null,
                null);

        assertThat(RestoreSummary.ofRestore(RestoreResult.parse(written.toJson()))).containsEntry("started", null);
    }

    @Test
    void aRestoreTestReturnsItsProof() {
        RestoreResult written = new RestoreResult(0, BACKUP, "web-restore-test-1a2b", null, Map.of(), null,
                new TestOutcome(true, "running", 2.05, "still running after 2 s (no agent channel, no serial port)"));

        Map<String, Object> map = RestoreSummary.ofTest(RestoreResult.parse(written.toJson()));

        assertThat(map.keySet()).containsExactly("status", "backup", "domain", "passed", "proof", "secondsToLife",
                "detail");
        assertThat(map).containsEntry("status", 0).containsEntry("backup", BACKUP)
                .containsEntry("domain", "web-restore-test-1a2b").containsEntry("passed", true)
                .containsEntry("proof", "running").containsEntry("secondsToLife", 2.05)
                .containsEntry("detail", "still running after 2 s (no agent channel, no serial port)");
        assertPlainValues(map);
    }

    /** A success whose result file says otherwise fails the step rather than returning half a map. */
    @Test
    void resultsThatCannotBeASuccessAreRefused() {
        RestoreResult noDomain = new RestoreResult(0, BACKUP, null, null, Map.of(), null, null);
        assertThatThrownBy(() -> RestoreSummary.ofRestore(noDomain)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(Messages.RestoreSummary_noDomain());

        RestoreResult noTest = new RestoreResult(0, BACKUP, "clone", null, Map.of(), null, null);
        assertThatThrownBy(() -> RestoreSummary.ofTest(noTest)).hasMessage(Messages.RestoreSummary_noTest());

        RestoreResult failed = new RestoreResult(0, BACKUP, "clone", null, Map.of(), null,
                new TestOutcome(false, "agent", null, "the agent never answered"));
        assertThatThrownBy(() -> RestoreSummary.ofTest(failed))
                .hasMessage(Messages.RestoreSummary_notPassed("the agent never answered"));
    }

    /** What a pipeline keeps must serialize with its program: JDK types only. */
    private static void assertPlainValues(Map<String, Object> map) {
        assertThat(map).isInstanceOf(LinkedHashMap.class);
        for (Object value : map.values()) {
            if (value != null) {
                assertThat(value).isInstanceOf(Serializable.class);
                assertThat(value.getClass().getName()).startsWith("java.");
            }
        }
    }
}
