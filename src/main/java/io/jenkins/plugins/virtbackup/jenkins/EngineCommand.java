package io.jenkins.plugins.virtbackup.jenkins;

import java.util.ArrayList;
import java.util.List;

/**
 * The command a step starts on the node: the engine's {@code EngineSupervisor} under the first Java that exists
 * where the command runs. That is the agent's own Java on a plain node; inside a container wrapper
 * ({@code docker.inside}, Kubernetes' {@code container()}) the agent's path usually does not exist, and
 * the container's {@code $JAVA_HOME/bin/java} or {@code java} on its {@code PATH} is used instead.
 */
final class EngineCommand {
    /**
     * {@code io.jenkins.plugins.virtbackup.cli.EngineSupervisor}, named, not loaded: the command line's
     * classes ship in the engine's jar, not in the plugin's class path.
     */
    static final String SUPERVISOR_CLASS = "io.jenkins.plugins.virtbackup.cli.EngineSupervisor";
    /** The shell's exit code when no Java was found. */
    static final int NO_JAVA = 127;
    private static final String PICK_JAVA = String.join("\n",
            "agent_java=$1; shift",
            "if [ -x \"$agent_java\" ]; then exec \"$agent_java\" \"$@\"; fi",
            "if [ -n \"$JAVA_HOME\" ] && [ -x \"$JAVA_HOME/bin/java\" ]; then exec \"$JAVA_HOME/bin/java\" \"$@\"; fi",
            "exec java \"$@\"");

    private EngineCommand() {
    }

    /**
     * @param agentJava  the agent JVM's {@code java}
     * @param jar        the engine's jar on the node
     * @param runDir     the run's folder on the node
     * @param engineArgs what follows {@code virt-backup}
     */
    static List<String> of(String agentJava, String jar, String runDir, List<String> engineArgs) {
        List<String> command = new ArrayList<>(List.of("sh", "-c", PICK_JAVA, "sh", agentJava, "-cp", jar,
                SUPERVISOR_CLASS, runDir));
        command.addAll(engineArgs);
        return command;
    }
}
