package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.cli.EngineSupervisor;
import io.jenkins.plugins.virtbackup.engine.ToolVersion;
import io.jenkins.plugins.virtbackup.testing.CliProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command a step starts on the node, run for real with the packaged jar, the way a container
 * wrapper runs it: the jar in the workspace's temporary folder, and the agent JVM's {@code java} path
 * missing (it lives outside the container).
 */
class EngineCommandIT {
    private static final Path OWN_JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

    @TempDir
    Path workspaceTemp;

    @Test
    void theCommandNamesTheSupervisorClassOfTheEnginesJar() {
        assertThat(EngineCommand.SUPERVISOR_CLASS).isEqualTo(EngineSupervisor.class.getName());
    }

    @Test
    void theAgentsOwnJavaRunsTheEngineWhenItExists() throws Exception {
        CliProcess.Result run = run(OWN_JAVA.toString(), Map.of());

        assertThat(run.code()).as(run.text()).isZero();
        assertThat(run.text()).contains("virt-backup " + ToolVersion.get());
    }

    @Test
    void insideAContainerJavaHomeStandsInForTheAgentsMissingJava() throws Exception {
        CliProcess.Result run = run("/agent/jdk/is/not/here/bin/java",
                Map.of("JAVA_HOME", System.getProperty("java.home"), "PATH", "/usr/bin:/bin"));

        assertThat(run.code()).as(run.text()).isZero();
        assertThat(run.text()).contains("virt-backup " + ToolVersion.get());
    }

    @Test
    void insideAContainerJavaOnThePathStandsInForTheAgentsMissingJava() throws Exception {
        Path bin = Files.createDirectories(workspaceTemp.resolve("container-bin"));
        Path java = Files.writeString(bin.resolve("java"), "#!/bin/sh\nexec " + OWN_JAVA + " \"$@\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));

        CliProcess.Result run = run("/agent/jdk/is/not/here/bin/java",
                Map.of("PATH", bin + ":/usr/bin:/bin"));

        assertThat(run.code()).as(run.text()).isZero();
        assertThat(run.text()).contains("virt-backup " + ToolVersion.get());
    }

    @Test
    void noJavaAnywhereIsTheExitCodeTheStepExplains() throws Exception {
        CliProcess.Result run = run("/agent/jdk/is/not/here/bin/java", Map.of("PATH", "/no/java/here"));

        assertThat(run.code()).as(run.text()).isEqualTo(EngineCommand.NO_JAVA);
    }

    /** The command as the step builds it, with the jar copied where the step copies it. */
    private CliProcess.Result run(String agentJava, Map<String, String> env) throws Exception {
        Path jar = Files.createDirectories(workspaceTemp.resolve("virt-backup")).resolve("virt-backup-cli-test.jar");
        Files.copy(CliProcess.JAR, jar, StandardCopyOption.REPLACE_EXISTING);
        Path runDir = Files.createDirectories(workspaceTemp.resolve("virt-backup-run-1"));
        ProcessBuilder builder = new ProcessBuilder(EngineCommand.of(agentJava, jar.toString(), runDir.toString(),
                List.of("--version"))).redirectErrorStream(true);
        builder.environment().remove("JAVA_HOME");
        builder.environment().putAll(env);
        CliProcess.Result run = CliProcess.finish(builder.start());
        if (run.code() != EngineCommand.NO_JAVA) {
            assertThat(runDir.resolve(EngineSupervisor.EXIT_FILE)).as("the engine ran detached and ended")
                    .hasContent(String.valueOf(run.code()));
        }
        return run;
    }
}
