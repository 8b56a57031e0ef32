package io.jenkins.plugins.virtbackup.engine.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.copy.FsyncTrace;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupLogTest {
    @TempDir
    Path dir;

    private final BackupLog log = new BackupLog(
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false, SyslogSink.NONE);

    @Test
    void theRunLogHoldsEveryMessageUntilRecordingStopsAndNoneAfter() throws IOException {
        Path file = dir.resolve("virt-backup.log");
        log.milestone("started");
        log.detail("before the folder existed");
        log.recordTo(file);
        log.warning("while recording");

        log.stopRecording();
        log.error("after the backup was complete");

        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).endsWith(" INFO started");
        assertThat(lines.get(1)).endsWith(" DETAIL before the folder existed");
        assertThat(lines.get(2)).endsWith(" WARNING while recording");
    }

    @Test
    void stoppingTwiceOrClosingAfterwardsChangesNothing() throws IOException {
        Path file = dir.resolve("virt-backup.log");
        log.recordTo(file);
        log.notice("once");
        log.stopRecording();

        log.stopRecording();
        log.close();

        assertThat(Files.readAllLines(file)).singleElement().asString().endsWith(" NOTICE once");
    }

    @Test
    void neverWritesIntoAFileThatExists() throws IOException {
        Path existing = Files.writeString(dir.resolve("virt-backup.log"), "an earlier run's log");

        assertThatThrownBy(() -> log.recordTo(existing)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(existing).hasContent("an earlier run's log");
    }

    @Test
    void stoppingPutsTheRunLogAndItsNameOnDisk() throws Exception {
        Path file = dir.resolve("virt-backup.log");
        log.recordTo(file);
        log.milestone("complete");

        Set<Path> synced = FsyncTrace.of(log::stopRecording);

        assertThat(synced).containsExactly(file, dir);
    }
}
