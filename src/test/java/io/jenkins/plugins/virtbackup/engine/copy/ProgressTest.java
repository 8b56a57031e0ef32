package io.jenkins.plugins.virtbackup.engine.copy;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressTest {
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();

    private BackupLog log(boolean verbose, boolean interactive) {
        return new BackupLog(new PrintStream(console, true, StandardCharsets.UTF_8), verbose, interactive,
                SyslogSink.NONE);
    }

    private String text() {
        return console.toString(StandardCharsets.UTF_8);
    }

    @Test
    void plainLinesShowPercentRateAndTimeLeft() throws Exception {
        Progress progress = new Progress(log(true, false), "disk vda", 0);
        Thread.sleep(5);
        progress.update(256L << 20, 1L << 30);

        assertThat(text()).matches("virt-backup: disk vda:  25% of 1\\.0 GiB, \\d+ MiB/s, ETA \\d+:\\d\\d\\n");
    }

    @Test
    void plainLinesNeedVerboseSoThatCronStaysQuiet() throws Exception {
        Progress progress = new Progress(log(false, false), "disk vda", 0);
        Thread.sleep(5);
        progress.update(1, 2);
        assertThat(text()).isEmpty();
    }

    @Test
    void onATerminalTheLineIsRedrawnInPlaceAndClearedBeforeTheNextMessage() throws Exception {
        BackupLog log = log(false, true);
        Progress progress = new Progress(log, "backup job", 0);
        Thread.sleep(5);
        progress.update(10, 0);
        log.milestone("done");

        assertThat(text()).startsWith("\r\033[Kvirt-backup: backup job: 10 B, ")
                .endsWith("\r\033[Kvirt-backup: done\n");
    }

    @Test
    void linesAreRateLimited() {
        Progress progress = new Progress(log(true, false), "disk vda", 60_000_000_000L);
        for (int i = 0; i < 1000; i++) {
            progress.update(i, 1000);
        }
        assertThat(text()).isEmpty();
    }
}
