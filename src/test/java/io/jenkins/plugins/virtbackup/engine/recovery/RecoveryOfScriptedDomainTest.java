package io.jenkins.plugins.virtbackup.engine.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.ScriptedHypervisor;
import io.jenkins.plugins.virtbackup.engine.ScriptedVirtualMachine;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.modes.ShutdownHold;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Recovery of steps the test driver cannot play: a guest still shutting down, a thaw the agent does not confirm. */
class RecoveryOfScriptedDomainTest {
    private final ScriptedVirtualMachine vm = new ScriptedVirtualMachine();
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final BackupLog log = new BackupLog(new PrintStream(console, true, StandardCharsets.UTF_8), true,
            SyslogSink.NONE);
    private final ScriptedHypervisor hypervisor = new ScriptedHypervisor(vm);

    @TempDir
    Path stateDir;

    private RecoveryJournal journalWith(RecoveryJournal.Undo step) throws Exception {
        RecoveryJournal journal = RecoveryJournal.of(new StateDirectory(stateDir), hypervisor.uri(), "web");
        journal.willDo(step);
        return journal;
    }

    private static RecoveryJournal.Undo startUntil(long epochMillis) {
        return new RecoveryJournal.Undo(RecoveryJournal.Undo.START, Map.of(ShutdownHold.UNTIL, Long.toString(epochMillis)));
    }

    @Test
    void aGuestTheDeadRunLeftShuttingDownIsStartedOnceItIsOff() throws Exception {
        vm.shutdownTakes = Duration.ofMillis(1500);
        vm.requestShutdown();  // what the dead run asked, just before it was killed
        RecoveryJournal journal = journalWith(startUntil(System.currentTimeMillis() + 20_000));

        new JournalReplay(hypervisor, log).finish(journal);

        assertThat(vm.calls).containsExactly("shutdown", "start");
        assertThat(vm.state).isEqualTo(DomainState.RUNNING);
        assertThat(console.toString(StandardCharsets.UTF_8)).contains("is still shutting down: waiting up to");
        assertThat(journal.isEmpty()).isTrue();
    }

    @Test
    void aGuestStillRunningAfterTheDeadRunsShutdownWaitIgnoredTheRequest() throws Exception {
        RecoveryJournal journal = journalWith(startUntil(System.currentTimeMillis() - 1000));

        long before = System.nanoTime();
        new JournalReplay(hypervisor, log).finish(journal);

        assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(1));
        assertThat(vm.calls).isEmpty();
        assertThat(journal.isEmpty()).isTrue();
    }

    @Test
    void aThawTheAgentDoesNotConfirmKeepsItsStepAndSaysHow() throws Exception {
        vm.thawsFailing = Integer.MAX_VALUE;
        RecoveryJournal journal = journalWith(new RecoveryJournal.Undo(RecoveryJournal.Undo.THAW, Map.of()));

        assertThatThrownBy(() -> new JournalReplay(hypervisor, log).finish(journal))
                .isInstanceOfSatisfying(BackupException.class, e -> {
                    assertThat(e.status()).isEqualTo(ExitStatus.VM_NOT_RESTORED);
                    assertThat(e.getMessage()).contains("virsh domfsthaw web");
                });
        assertThat(vm.calls).containsExactly("thaw", "thaw", "thaw");
        assertThat(RecoveryJournal.of(new StateDirectory(stateDir), hypervisor.uri(), "web").pending())
                .extracting(RecoveryJournal.Undo::action).containsExactly("thaw");
    }
}
