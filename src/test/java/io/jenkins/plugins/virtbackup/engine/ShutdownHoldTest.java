package io.jenkins.plugins.virtbackup.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ShutdownHoldTest {
    private final ScriptedVirtualMachine vm = new ScriptedVirtualMachine();
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final BackupLog log = new BackupLog(new PrintStream(console, true, StandardCharsets.UTF_8), true,
            SyslogSink.NONE);

    private ShutdownHold hold(boolean forceOff) {
        return new ShutdownHold(vm, "web", Duration.ofMillis(600), forceOff, log);
    }

    @Test
    void aGuestThatShutsDownIsStartedAgainAfterwards() throws BackupException {
        ShutdownHold hold = hold(false);
        hold.hold();
        assertThat(vm.state).isEqualTo(DomainState.SHUT_OFF);

        hold.putBack();

        assertThat(vm.calls).containsExactly("shutdown", "start");
        assertThat(vm.state).isEqualTo(DomainState.RUNNING);
    }

    @Test
    void atTheTimeoutAGuestIgnoringTheRequestIsLeftRunningAndTheBackupFails() throws BackupException {
        vm.guestObeysShutdown = false;
        ShutdownHold hold = hold(false);

        assertThatThrownBy(hold::hold).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.status()).isEqualTo(ExitStatus.BACKUP_FAILED);
            assertThat(e.getMessage()).contains("did not shut down within").contains("left running");
        });
        hold.putBack();

        assertThat(vm.calls).containsExactly("shutdown");
        assertThat(vm.state).isEqualTo(DomainState.RUNNING);
    }

    @Test
    void withForceOffAGuestIgnoringTheRequestIsPulledAndStartedAgain() throws BackupException {
        vm.guestObeysShutdown = false;
        ShutdownHold hold = hold(true);

        hold.hold();
        hold.putBack();

        assertThat(vm.calls).containsExactly("shutdown", "forceOff", "start");
        assertThat(console.toString(StandardCharsets.UTF_8)).contains("forcing it off");
    }

    @Test
    void aFailedStartIsTheWorstCaseAndSaysHowToRecover() throws BackupException {
        vm.startFails = true;
        ShutdownHold hold = hold(false);
        hold.hold();

        assertThatThrownBy(hold::putBack).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.status()).isEqualTo(ExitStatus.VM_NOT_RESTORED);
            assertThat(e.getMessage()).contains("virsh start web");
        });
    }

    @Test
    void putBackActsOnce() throws BackupException {
        ShutdownHold hold = hold(false);
        hold.hold();
        hold.putBack();
        hold.putBack();
        assertThat(vm.calls).containsExactly("shutdown", "start");
    }
}
