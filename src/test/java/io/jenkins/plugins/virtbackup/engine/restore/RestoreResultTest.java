package io.jenkins.plugins.virtbackup.engine.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The restore's result file, as the command line writes it and the plugin reads it. */
class RestoreResultTest {
    @Test
    void aRestoreAndARestoreTestReadBackAsWritten() {
        RestoreResult restore = new RestoreResult(0, "/srv/backup/web/20261203T020000Z", "web-copy", "u-1",
                Map.of("vda", "/srv/restore/web-copy-vda.qcow2"), RestoredDomain.BOOTED, null);
        RestoreResult test = new RestoreResult(10, "/srv/backup/web/20261203T020000Z", "web-restore-test-1", null,
                Map.of(), null, new RestoreResult.TestOutcome(false, "agent", null, "no answer"));
        RestoreResult passed = new RestoreResult(0, "/b", "c", null, Map.of(), null,
                new RestoreResult.TestOutcome(true, "console", 7.4, "the guest wrote"));

        assertThat(RestoreResult.parse(restore.toJson())).isEqualTo(restore);
        assertThat(RestoreResult.parse(test.toJson())).isEqualTo(test);
        assertThat(RestoreResult.parse(passed.toJson())).isEqualTo(passed);
        assertThat(RestoreResult.parse("  ")).isNull();
    }

    @Test
    void whatNoRestoreWritesIsRefused() {
        assertThatThrownBy(() -> RestoreResult.parse("[]")).hasMessage("not a JSON object");
        assertThatThrownBy(() -> RestoreResult.parse("{\"backup\": \"/b\"}")).hasMessage("no status number");
        assertThatThrownBy(() -> RestoreResult.parse("{\"status\": 0, \"disks\": []}")).hasMessage("disks is not an object");
        assertThatThrownBy(() -> RestoreResult.parse("{\"status\": 0, \"test\": {\"proof\": \"agent\"}}"))
                .hasMessage("test is not an object with a passed flag");
    }
}
