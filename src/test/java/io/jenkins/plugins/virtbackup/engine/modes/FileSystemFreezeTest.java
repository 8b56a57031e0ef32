package io.jenkins.plugins.virtbackup.engine.modes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.ScriptedVirtualMachine;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.recovery.RecoveryJournal;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --quiesce}: every freeze that may have frozen something is thawed, and a thaw that fails says so loudly. */
class FileSystemFreezeTest {
    private final ScriptedVirtualMachine vm = new ScriptedVirtualMachine();
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final BackupLog log = new BackupLog(new PrintStream(console, true, StandardCharsets.UTF_8), true,
            SyslogSink.NONE);
    /** The journal's steps as the held step sees them. */
    private final List<String> pendingWhileHeld = new ArrayList<>();

    @TempDir
    Path stateDir;

    private RecoveryJournal journal() throws IOException {
        return RecoveryJournal.of(new StateDirectory(stateDir), "test:///x", "web");
    }

    private void freezeAround(FileSystemFreeze.Held held) throws Exception {
        new FileSystemFreeze(vm, "web", log, Duration.ofMillis(10)).around(journal(), () -> {
            vm.calls.add("held");
            try {
                journal().pending().forEach(step -> pendingWhileHeld.add(step.action()));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            held.run();
        });
    }

    @Test
    void aConfirmedFreezeIsThawedAfterTheHold() throws Exception {
        vm.freezeAnswer = FreezeResult.frozen();

        freezeAround(() -> { });

        assertThat(vm.calls).containsExactly("freeze", "held", "thaw");
        assertThat(pendingWhileHeld).as("a kill while frozen leaves the thaw to recovery").containsExactly("thaw");
        assertThat(journal().isEmpty()).isTrue();
    }

    @Test
    void anUncertainFreezeIsThawedTooRetryingUntilTheThawIsConfirmed() throws Exception {
        vm.freezeAnswer = FreezeResult.uncertain("Guest agent not available for now");
        vm.thawsFailing = 2;

        freezeAround(() -> { });

        assertThat(vm.calls).containsExactly("freeze", "held", "thaw", "thaw", "thaw");
        assertThat(console.toString(StandardCharsets.UTF_8))
                .contains("did not confirm the freeze (Guest agent not available for now)")
                .contains("attempt 2 of 3").contains("guest file systems thawed");
        assertThat(journal().isEmpty()).isTrue();
    }

    @Test
    void withoutAnAgentNothingIsThawedAndTheBackupGoesOnCrashConsistent() throws Exception {
        vm.freezeAnswer = FreezeResult.noAgent("the domain has no guest agent channel");

        freezeAround(() -> { });

        assertThat(vm.calls).containsExactly("freeze", "held");
        assertThat(pendingWhileHeld).isEmpty();
        assertThat(console.toString(StandardCharsets.UTF_8)).contains("no guest agent answered").contains("crash-consistent");
        assertThat(journal().isEmpty()).isTrue();
    }

    @Test
    void anUncertainFreezeThatCannotBeThawedIsNotRestoredAndSaysHow() throws Exception {
        vm.freezeAnswer = FreezeResult.uncertain("Guest agent not available for now");
        vm.thawsFailing = Integer.MAX_VALUE;

        assertThatThrownBy(() -> freezeAround(() -> { })).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.status()).isEqualTo(ExitStatus.VM_NOT_RESTORED);
            assertThat(e.getMessage()).contains("may still be frozen").contains("virsh domfsthaw web");
        });
        assertThat(vm.calls).containsExactly("freeze", "held", "thaw", "thaw", "thaw");
        assertThat(journal().pending()).as("kept until a thaw is confirmed").extracting(RecoveryJournal.Undo::action)
                .containsExactly("thaw");
    }

    @Test
    void aFailedHoldIsThawedAndItsOwnFailureKept() throws Exception {
        vm.freezeAnswer = FreezeResult.frozen();
        BackupException snapshotFailed = new BackupException(ExitStatus.BACKUP_FAILED, "snapshot failed");

        assertThatThrownBy(() -> freezeAround(() -> {
            throw snapshotFailed;
        })).isSameAs(snapshotFailed);
        assertThat(vm.calls).containsExactly("freeze", "held", "thaw");
        assertThat(journal().isEmpty()).isTrue();
    }

    @Test
    void aFailedHoldWhoseThawFailsReportsBothTheThawLouder() throws Exception {
        vm.freezeAnswer = FreezeResult.frozen();
        vm.thawsFailing = Integer.MAX_VALUE;

        assertThatThrownBy(() -> freezeAround(() -> {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "snapshot failed");
        })).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.status()).isEqualTo(ExitStatus.VM_NOT_RESTORED);
            assertThat(e.getSuppressed()).singleElement().extracting(Throwable::getMessage).isEqualTo("snapshot failed");
        });
        assertThat(console.toString(StandardCharsets.UTF_8)).contains("snapshot failed");
    }
}
