package io.jenkins.plugins.virtbackup.engine.restore;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.ScriptedVirtualMachine;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreResult.TestOutcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each proof of life, what passes it and what fails it. */
class LifeWatchTest {
    @TempDir
    Path dir;
    final ScriptedVirtualMachine clone = new ScriptedVirtualMachine();

    private TestOutcome watch(LifeProof proof, Pattern pattern, Duration timeout) throws InterruptedException {
        return new LifeWatch(clone, proof, dir.resolve("console.log"), pattern).await(System.nanoTime(), timeout,
                () -> false);
    }

    @Test
    void anAgentThatAnswersIsLife() throws Exception {
        clone.agentAnswers = true;

        TestOutcome outcome = watch(LifeProof.AGENT, null, Duration.ofSeconds(5));

        assertThat(outcome).isEqualTo(new TestOutcome(true, "agent", outcome.secondsToLife(),
                "the guest agent answered guest-ping"));
        assertThat(outcome.secondsToLife()).isLessThan(5.0);
    }

    @Test
    void anAgentThatNeverAnswersFailsAtTheTimeoutWithTheConsolesLastLine() throws Exception {
        Files.writeString(dir.resolve("console.log"), "Booting the kernel\r\nmounting root\u001b[0m\n\n");

        TestOutcome outcome = watch(LifeProof.AGENT, null, Duration.ofMillis(600));

        assertThat(outcome.passed()).isFalse();
        assertThat(outcome.secondsToLife()).isNull();
        assertThat(outcome.detail()).isEqualTo("no answer from the guest agent within 0 s; its console's last line: "
                + "mounting root[0m");
    }

    @Test
    void aConsoleLineIsLifeAndAPatternNarrowsIt() throws Exception {
        Files.writeString(dir.resolve("console.log"), "SeaBIOS\nlogin: \n");

        assertThat(watch(LifeProof.CONSOLE, null, Duration.ofSeconds(2)).detail())
                .isEqualTo("the guest wrote to its serial console: SeaBIOS");
        assertThat(watch(LifeProof.CONSOLE, Pattern.compile("login:"), Duration.ofSeconds(2)).detail())
                .isEqualTo("the guest wrote to its serial console: login:");
        TestOutcome noMatch = watch(LifeProof.CONSOLE, Pattern.compile("ready"), Duration.ofMillis(600));
        assertThat(noMatch.passed()).isFalse();
        assertThat(noMatch.detail()).startsWith("no console line matching 'ready' within 0 s");
    }

    @Test
    void anEmptyConsoleIsNoLife() throws Exception {
        TestOutcome outcome = watch(LifeProof.CONSOLE, null, Duration.ofMillis(600));

        assertThat(outcome.passed()).isFalse();
        assertThat(outcome.detail()).isEqualTo("no line on the serial console within 0 s");
    }

    @Test
    void aCloneThatStopsFailsAtOnceEvenWithTheWeakestProof() throws Exception {
        clone.state = DomainState.SHUT_OFF;

        TestOutcome outcome = watch(LifeProof.RUNNING, null, Duration.ofSeconds(60));

        assertThat(outcome.passed()).isFalse();
        assertThat(outcome.detail()).startsWith("the clone stopped after 0.0 s without showing life");
    }

    @Test
    void stillRunningAtTheTimeoutIsTheWeakProof() throws Exception {
        TestOutcome outcome = watch(LifeProof.RUNNING, null, Duration.ofMillis(700));

        assertThat(outcome.passed()).isTrue();
        assertThat(outcome.proof()).isEqualTo("running");
        assertThat(outcome.secondsToLife()).isGreaterThanOrEqualTo(0.7);
        assertThat(outcome.detail()).contains("a weak proof");
    }
}
