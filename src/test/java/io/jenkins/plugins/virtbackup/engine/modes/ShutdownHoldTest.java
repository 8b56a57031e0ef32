package io.jenkins.plugins.virtbackup.engine.modes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.DomainState;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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

    private volatile boolean cancelled;

    private ShutdownHold hold(boolean forceOff) throws IOException {
        return hold(Duration.ofMillis(600), forceOff, Duration.ofSeconds(1));
    }

    private ShutdownHold hold(Duration timeout, boolean forceOff, Duration grace) throws IOException {
        return new ShutdownHold(vm, "web", timeout, forceOff, log, journal(), () -> cancelled, grace);
    }

    private String console() {
        return console.toString(StandardCharsets.UTF_8);
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
            assertThat(e.getMessage()).contains("did not shut down within");
        });
        hold.putBack();

        assertThat(vm.calls).containsExactly("shutdown");
        assertThat(vm.state).isEqualTo(DomainState.RUNNING);
        assertThat(console()).contains("still shutting down: waiting up to 1 s")
                .contains("ignored the shutdown request: it was left running");
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

    @Test
    void aGuestStillShuttingDownAtTheTimeoutIsStartedAgainOnceItIsOff() throws Exception {
        vm.shutdownTakes = Duration.ofMillis(1500);
        ShutdownHold hold = hold(Duration.ofMillis(400), false, Duration.ofSeconds(10));

        assertThatThrownBy(hold::hold).isInstanceOfSatisfying(BackupException.class,
                e -> assertThat(e.getMessage()).contains("did not shut down within"));
        assertThat(vm.state()).as("still shutting down when the wait ended").isEqualTo(DomainState.RUNNING);
        assertThat(journal().pending()).as("the start step stays until it is done")
                .extracting(RecoveryJournal.Undo::action).containsExactly("start");
        hold.putBack();

        assertThat(vm.calls).containsExactly("shutdown", "start");
        assertThat(vm.state).isEqualTo(DomainState.RUNNING);
        assertThat(console()).contains("domain 'web' is still shutting down: waiting up to 10 s to start it again");
        assertThat(journal().isEmpty()).isTrue();
    }

    @Test
    void aSignalDuringTheShutdownWaitEndsItWithinAPollAndTheGuestIsStartedOnceOff() throws Exception {
        vm.shutdownTakes = Duration.ofMillis(1500);
        ShutdownHold hold = hold(Duration.ofSeconds(60), false, Duration.ofSeconds(10));
        AtomicLong holdEnded = new AtomicLong();
        AtomicReference<Throwable> holdFailure = new AtomicReference<>();
        Thread main = new Thread(() -> {
            try {
                hold.hold();
            } catch (BackupException e) {
                holdFailure.set(e);
            }
            holdEnded.set(System.nanoTime());
        });
        main.start();
        Thread.sleep(300);

        // What BackupEngine.cancel does on SIGTERM: the flag, then the put-back, from another thread.
        long signalled = System.nanoTime();
        cancelled = true;
        hold.putBack();
        long putBack = System.nanoTime();
        main.join(5000);

        assertThat(main.isAlive()).as("hold() still waiting").isFalse();
        assertThat(Duration.ofNanos(holdEnded.get() - signalled)).as("the wait ended by the signal")
                .isLessThan(Duration.ofSeconds(1));
        assertThat(holdFailure.get()).hasMessageContaining("stopped while waiting for domain 'web' to shut down");
        assertThat(Duration.ofNanos(putBack - signalled)).as("put back once the guest was off, not at the timeout")
                .isLessThan(Duration.ofSeconds(5));
        assertThat(vm.calls).containsExactly("shutdown", "start");
        assertThat(vm.state).isEqualTo(DomainState.RUNNING);
        assertThat(journal().isEmpty()).isTrue();
        hold.putBack();
        assertThat(vm.calls).as("the main thread's put-back does nothing more").hasSize(2);
    }

    @Test
    void aSignalBeforeTheShutdownRequestTouchesNothing() throws Exception {
        cancelled = true;
        ShutdownHold hold = hold(false);

        assertThatThrownBy(hold::hold).hasMessageContaining("stopped while waiting");
        hold.putBack();

        assertThat(vm.calls).isEmpty();
        assertThat(journal().isEmpty()).isTrue();
    }

    @Test
    void aGuestStillRunningAfterTheGraceOfAnEarlyStopIsLeftToRecovery() throws Exception {
        vm.guestObeysShutdown = false;  // or just very slow: nobody can tell before the timeout
        ShutdownHold hold = hold(Duration.ofSeconds(60), false, Duration.ofMillis(300));
        Thread main = new Thread(() -> {
            try {
                hold.hold();
            } catch (BackupException expected) {
                // stopped
            }
        });
        main.start();
        Thread.sleep(300);
        cancelled = true;
        hold.putBack();
        main.join(5000);

        assertThat(vm.calls).containsExactly("shutdown");
        assertThat(console()).contains("'virt-backup recover' (or the next run) starts it again");
        RecoveryJournal.Undo start = journal().pending().get(0);
        assertThat(start.action()).isEqualTo("start");
        assertThat(Long.parseLong(start.detail(ShutdownHold.UNTIL))).as("the end of the shutdown wait, for recovery")
                .isBetween(System.currentTimeMillis() + 55_000, System.currentTimeMillis() + 61_000);
    }

    @Test
    void aGuestStartedBySomeoneElseAfterItWentOffIsNotWaitedFor() throws Exception {
        ShutdownHold hold = hold(Duration.ofMillis(600), false, Duration.ofSeconds(30));
        hold.hold();
        vm.state = DomainState.RUNNING;

        long before = System.nanoTime();
        hold.putBack();

        assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(1));
        assertThat(vm.calls).containsExactly("shutdown");
        assertThat(journal().isEmpty()).isTrue();
    }
}
