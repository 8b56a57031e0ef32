package io.jenkins.plugins.virtbackup.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShutdownHoldTest {
    private final ScriptedVirtualMachine vm = new ScriptedVirtualMachine();
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final BackupLog log = new BackupLog(new PrintStream(console, true, StandardCharsets.UTF_8), true,
            SyslogSink.NONE);

    @TempDir
    Path stateDir;

    private RecoveryJournal journal() throws IOException {
        return RecoveryJournal.of(new StateDirectory(stateDir), "test:///x", "web");
    }

    private ShutdownHold hold(boolean forceOff) throws IOException {
        return new ShutdownHold(vm, "web", Duration.ofMillis(600), forceOff, log, journal());
    }

    @Test
    void aGuestThatShutsDownIsStartedAgainAfterwards() throws Exception {
        ShutdownHold hold = hold(false);
        hold.hold();
        assertThat(vm.state).isEqualTo(DomainState.SHUT_OFF);
        assertThat(journal().pending()).as("what a kill now would leave to undo")
                .extracting(RecoveryJournal.Undo::action).containsExactly("start");

        hold.putBack();

        assertThat(vm.calls).containsExactly("shutdown", "start");
        assertThat(vm.state).isEqualTo(DomainState.RUNNING);
        assertThat(journal().isEmpty()).isTrue();
    }

    @Test
    void atTheTimeoutAGuestIgnoringTheRequestIsLeftRunningAndTheBackupFails() throws Exception {
        vm.guestObeysShutdown = false;
        ShutdownHold hold = hold(false);

        assertThatThrownBy(hold::hold).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.status()).isEqualTo(ExitStatus.BACKUP_FAILED);
            assertThat(e.getMessage()).contains("did not shut down within").contains("left running");
        });
        hold.putBack();

        assertThat(vm.calls).containsExactly("shutdown");
        assertThat(vm.state).isEqualTo(DomainState.RUNNING);
        assertThat(journal().isEmpty()).as("nothing to undo for a guest that kept running").isTrue();
    }

    @Test
    void withForceOffAGuestIgnoringTheRequestIsPulledAndStartedAgain() throws Exception {
        vm.guestObeysShutdown = false;
        ShutdownHold hold = hold(true);

        hold.hold();
        hold.putBack();

        assertThat(vm.calls).containsExactly("shutdown", "forceOff", "start");
        assertThat(console.toString(StandardCharsets.UTF_8)).contains("forcing it off");
    }

    @Test
    void aFailedStartIsTheWorstCaseAndSaysHowToRecover() throws Exception {
        vm.startFails = true;
        ShutdownHold hold = hold(false);
        hold.hold();

        assertThatThrownBy(hold::putBack).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.status()).isEqualTo(ExitStatus.VM_NOT_RESTORED);
            assertThat(e.getMessage()).contains("virsh start web");
        });
        assertThat(journal().pending()).as("kept for the next run").extracting(RecoveryJournal.Undo::action)
                .containsExactly("start");
    }

    @Test
    void putBackActsOnce() throws Exception {
        ShutdownHold hold = hold(false);
        hold.hold();
        hold.putBack();
        hold.putBack();
        assertThat(vm.calls).containsExactly("shutdown", "start");
    }
}
