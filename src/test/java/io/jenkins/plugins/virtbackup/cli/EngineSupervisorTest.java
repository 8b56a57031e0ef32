package io.jenkins.plugins.virtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The supervisor a Jenkins step starts, with shell scripts playing the engine: real processes, real
 * signals. In a process of its own ({@link SupervisedScript}) where the test signals or kills it as
 * Jenkins or a lost agent would.
 */
class EngineSupervisorTest {
    @TempDir
    Path runDir;
    private final List<Process> started = new ArrayList<>();
    private final List<Long> strayPids = new ArrayList<>();

    @AfterEach
    void killWhatIsLeft() {
        started.forEach(Process::destroyForcibly);
        strayPids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    @Test
    void relaysTheOutputAndTheExitCodeAndKeepsThemInTheRunFolder() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        int code = new EngineSupervisor(runDir, new PrintStream(out, true, StandardCharsets.UTF_8))
                .run(List.of("sh", "-c", "echo one; echo two >&2; exit 3"));

        assertThat(code).isEqualTo(3);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("one\ntwo\n");
        assertThat(runDir.resolve(EngineSupervisor.LOG_FILE)).hasContent("one\ntwo");
        assertThat(runDir.resolve(EngineSupervisor.EXIT_FILE)).hasContent("3");
        assertThat(runDir.resolve(EngineSupervisor.PID_FILE)).exists();
    }

    @Test
    void theEngineIsNoDescendantOfTheSupervisorAndCarriesNoJenkinsCookie() throws Exception {
        Path env = runDir.resolve("engine-env");
        Process supervisor = startSupervisor("env > '" + env + "'; echo ready; sleep 2", Map.of(
                "HUDSON_COOKIE", "launcher-cookie", "JENKINS_SERVER_COOKIE", "build-cookie",
                "JENKINS_NODE_COOKIE", "step-cookie", "VIRT_BACKUP_STATE_DIR", "/kept/as/$IS"));
        BufferedReader output = reader(supervisor);
        assertThat(output.readLine()).isEqualTo("ready");
        long enginePid = Long.parseLong(Files.readString(runDir.resolve(EngineSupervisor.PID_FILE)).trim());

        assertThat(supervisor.toHandle().descendants().map(ProcessHandle::pid))
                .as("Jenkins kills the started process's descendants, children first: the engine is none")
                .doesNotContain(enginePid);
        assertThat(ProcessHandle.of(enginePid)).as("the engine runs").isPresent();
        assertThat(session(enginePid)).as("a session of its own: the agent's hangup or Ctrl-C does not reach it")
                .isEqualTo(enginePid).isNotEqualTo(session(supervisor.pid()));
        assertThat(Files.readAllLines(env)).contains("VIRT_BACKUP_STATE_DIR=/kept/as/$IS")
                .noneMatch(line -> line.matches("(HUDSON|JENKINS_SERVER|JENKINS_NODE)_COOKIE=.*"));
        assertThat(supervisor.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(supervisor.exitValue()).isZero();
    }

    /**
     * Jenkins' abort: SIGTERM to the started process's descendants, then to it. The engine's own child
     * (libvirt's ssh) is not among them and lives on; the engine gets the SIGTERM from the supervisor,
     * and the supervisor ends only after the engine has cleaned up, with its exit code.
     */
    @Test
    void aSigtermReachesTheEngineAloneAndTheSupervisorWaitsForItsCleanUp() throws Exception {
        Path childPid = runDir.resolve("child.pid");
        Process supervisor = startSupervisor("sleep 60 & echo $! > '" + childPid + "'; "
                + "trap 'echo cleaning; sleep 2; echo cleaned; exit 143' TERM; echo ready; "
                + "while :; do sleep 0.1; done", Map.of());
        BufferedReader output = reader(supervisor);
        assertThat(output.readLine()).isEqualTo("ready");
        long child = Long.parseLong(Files.readString(childPid).trim());
        strayPids.add(child);

        supervisor.toHandle().descendants().forEach(ProcessHandle::destroy);
        supervisor.toHandle().destroy();
        long signalled = System.nanoTime();

        assertThat(output.readLine()).isEqualTo("cleaning");
        assertThat(output.readLine()).isEqualTo("cleaned");
        assertThat(supervisor.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - signalled)).as("waited for the clean-up")
                .isGreaterThanOrEqualTo(Duration.ofMillis(1500));
        assertThat(supervisor.exitValue()).isEqualTo(143);
        assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive)).as("the engine's child was not signalled")
                .contains(true);
    }

    /** The agent went away (or the controller, and the agent with it): the engine finishes alone. */
    @Test
    void theEngineOutlivesAKilledSupervisorAndRecordsItsEnd() throws Exception {
        Process supervisor = startSupervisor("echo started; sleep 2; echo finished; exit 5", Map.of());
        assertThat(reader(supervisor).readLine()).isEqualTo("started");

        supervisor.destroyForcibly();
        assertThat(supervisor.waitFor(10, TimeUnit.SECONDS)).isTrue();

        Path exitFile = runDir.resolve(EngineSupervisor.EXIT_FILE);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(exitFile) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(exitFile).hasContent("5");
        assertThat(runDir.resolve(EngineSupervisor.LOG_FILE)).hasContent("started\nfinished");
    }

    /** Nobody reads the supervisor's output any more: the end of the engine still ends it. */
    @Test
    void anOutputNobodyReadsDoesNotHoldTheEnd() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        OutputStream stuck = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                try {
                    never.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
        };

        int code = new EngineSupervisor(runDir, new PrintStream(stuck), 500)
                .run(List.of("sh", "-c", "seq 1 100000; exit 4"));

        assertThat(code).isEqualTo(4);
        assertThat(Files.readAllLines(runDir.resolve(EngineSupervisor.LOG_FILE))).hasSize(100_000);
    }

    @Test
    void anEngineThatEndsWithoutAnExitCodeCountsAsLost() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        // The script kills the shell that waits for it, which would have written the exit code.
        int code = new EngineSupervisor(runDir, new PrintStream(out, true, StandardCharsets.UTF_8))
                .run(List.of("sh", "-c", "kill -9 $PPID; sleep 0.3"));

        assertThat(code).isEqualTo(EngineSupervisor.LOST);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("ended without an exit code");
    }

    private Process startSupervisor(String script, Map<String, String> env) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), SupervisedScript.class.getName(), runDir.toString(),
                script).redirectErrorStream(true);
        builder.environment().putAll(env);
        Process process = builder.start();
        started.add(process);
        return process;
    }

    /** The session id, field 6 of {@code /proc/PID/stat} (after the command name in parentheses). */
    private static long session(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[3]);
    }

    private static BufferedReader reader(Process process) {
        return new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }
}
