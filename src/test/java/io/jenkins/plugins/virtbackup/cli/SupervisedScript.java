package io.jenkins.plugins.virtbackup.cli;

import java.nio.file.Path;
import java.util.List;

/**
 * {@link EngineSupervisor} in a process of its own, as a step starts it, supervising a shell script
 * in place of the engine: {@code RUN_DIR SCRIPT}. The script plays an engine whose timing the test
 * decides.
 */
public final class SupervisedScript {
    private SupervisedScript() {
    }

    public static void main(String[] args) {
        System.exit(EngineSupervisor.supervise(Path.of(args[0]), List.of("sh", "-c", args[1])));
    }
}
