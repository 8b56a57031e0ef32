package io.jenkins.plugins.virtbackup.engine.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecoveryJournalTest {
    @TempDir
    Path dir;

    private RecoveryJournal open() throws Exception {
        return RecoveryJournal.of(new StateDirectory(dir), "qemu:///system", "web 'odd' ü/..");
    }

    @Test
    void aNewRunReadsWhatADeadRunLeftInOrder() throws Exception {
        RecoveryJournal dead = open();
        dead.startedBackup(dir.resolve("b/web/20261130T000000Z.partial"));
        RecoveryJournal.Undo save = new RecoveryJournal.Undo("restore", Map.of("file", "/b/memory.state", "paused", "false"));
        RecoveryJournal.Undo freeze = new RecoveryJournal.Undo("thaw", Map.of());
        dead.willDo(save);
        dead.willDo(freeze);

        RecoveryJournal next = open();

        assertThat(next.pending()).containsExactly(save, freeze);
        assertThat(next.backupDirectory()).contains(dir.resolve("b/web/20261130T000000Z.partial"));
        assertThat(next.domain()).isEqualTo("web 'odd' ü/..");
    }

    @Test
    void undoneStepsAreForgottenAndAFinishedRunLeavesNoFile() throws Exception {
        RecoveryJournal journal = open();
        RecoveryJournal.Undo start = new RecoveryJournal.Undo("start", Map.of());
        journal.willDo(start);
        journal.undone(start);
        assertThat(open().pending()).isEmpty();

        journal.startedBackup(dir.resolve("x.partial"));
        journal.finished();

        assertThat(open().isEmpty()).isTrue();
        try (var files = Files.list(dir.resolve("journal"))) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void domainsOnOtherHypervisorsHaveTheirOwnJournal() throws Exception {
        open().willDo(new RecoveryJournal.Undo("start", Map.of()));
        RecoveryJournal other = RecoveryJournal.of(new StateDirectory(dir), "qemu+ssh://host/system", "web 'odd' ü/..");
        assertThat(other.isEmpty()).isTrue();
    }
}
