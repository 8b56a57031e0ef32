package io.jenkins.plugins.virtbackup.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A request of --all for one of its domains asks for everything the run was asked for. */
class BackupRequestTest {
    @Test
    void oneDomainOfManyKeepsEveryOptionButTheDisks() {
        BackupRequest all = new BackupRequest("", List.of("vda"), BackupMode.LIVE, Path.of("/srv/backup"),
                Duration.ofSeconds(42), true, true, Path.of("/o"), true, BackupLevel.AUTO, true);

        BackupRequest web = all.forDomain("web");

        assertThat(web).isEqualTo(new BackupRequest("web", List.of(), BackupMode.LIVE, Path.of("/srv/backup"),
                Duration.ofSeconds(42), true, true, Path.of("/o"), true, BackupLevel.AUTO, true));
    }
}
