package io.jenkins.plugins.virtbackup.engine.modes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.PullBackupRequest;
import io.jenkins.plugins.virtbackup.engine.ScriptedVirtualMachine;
import io.jenkins.plugins.virtbackup.engine.incremental.ChainPlan;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.recovery.RecoveryJournal;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code live} mode's hold when the job started but cannot be used: the paths a real libvirt
 * takes only when it dies at that very moment, scripted here.
 */
class LiveHoldTest {
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final BackupLog log = new BackupLog(new PrintStream(console, true, StandardCharsets.UTF_8), true,
            SyslogSink.NONE);
    private final ScriptedVirtualMachine vm = new ScriptedVirtualMachine();

    @TempDir
    Path dir;

    @Test
    void aJobThatStartedButCannotBeReadIsEndedAndItsCheckpointDeleted() throws Exception {
        vm.pullJobStarts = true;
        vm.pullJobUnreadable = "connection reset by peer";
        vm.checkpoints.add("virt-backup-20261202T020000Z");
        RecoveryJournal journal = RecoveryJournal.of(new StateDirectory(dir.resolve("state")), "test:///x", "web");
        Path scratch = dir.resolve("state/scratch/k");
        LiveHold hold = hold(journal, scratch);

        assertThatThrownBy(hold::hold).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.status()).isEqualTo(ExitStatus.BACKUP_FAILED);
            assertThat(e.getMessage()).contains("cannot read the backup job").contains("connection reset by peer");
        });
        assertThat(journal.pending()).extracting(RecoveryJournal.Undo::action).as("the job and checkpoint exist")
                .containsExactly(RecoveryJournal.Undo.REMOVE_SCRATCH, RecoveryJournal.Undo.DELETE_CHECKPOINT,
                        RecoveryJournal.Undo.ABORT_JOB);

        // What the engine does after any failure of the hold: put back, then discard.
        hold.putBack();
        hold.discard();

        assertThat(vm.calls).containsExactly("begin pull backup", "abort job",
                "delete checkpoint virt-backup-20261203T020000Z");
        assertThat(vm.checkpoints).as("the earlier backup's checkpoint is never touched")
                .containsExactly("virt-backup-20261202T020000Z");
        assertThat(journal.pending()).isEmpty();
        assertThat(Files.exists(scratch)).isFalse();
    }

    @Test
    void aJobLibvirtRefusedLeavesNothingToUndo() throws Exception {
        vm.pullJobStarts = true;
        vm.pullJobRefused = "another job is running";
        RecoveryJournal journal = RecoveryJournal.of(new StateDirectory(dir.resolve("state")), "test:///x", "web");
        Path scratch = dir.resolve("state/scratch/k");
        LiveHold hold = hold(journal, scratch);

        assertThatThrownBy(hold::hold).isInstanceOfSatisfying(BackupException.class,
                e -> assertThat(e.getMessage()).contains("cannot start the backup job").contains("another job"));
        assertThat(journal.pending()).extracting(RecoveryJournal.Undo::action)
                .containsExactly(RecoveryJournal.Undo.REMOVE_SCRATCH);
        hold.putBack();
        hold.discard();

        assertThat(vm.calls).as("no job of ours to abort, someone else's left alone")
                .containsExactly("begin pull backup refused");
        assertThat(journal.pending()).isEmpty();
        assertThat(Files.exists(scratch)).isFalse();
    }

    private LiveHold hold(RecoveryJournal journal, Path scratch) {
        return new LiveHold(vm, "web", ChainPlan.FULL, request(), scratch, Map.of("vda", 1L << 20),
                name -> dir.resolve(name), null, null, log, () -> false, journal);
    }

    private static PullBackupRequest request() {
        return new PullBackupRequest(List.of("vda"), Path.of("unused"), null, "virt-backup-20261203T020000Z",
                Set.of());
    }
}
