package io.jenkins.plugins.virtbackup.engine.copy;

import io.jenkins.plugins.virtbackup.testing.HostRequirement;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which files and directories this JVM syncs to disk while a piece of code runs, as the kernel saw
 * it: strace is attached to the test's own process for that time. The only honest way to check
 * durability short of cutting the power. Needs root and strace.
 */
public final class FsyncTrace {
    /** {@code fsync(7</path/to/file>) = 0} as strace prints it with {@code -y}, after a thread id. */
    private static final Pattern SYNC = Pattern.compile("\\bf(?:data)?sync\\(\\d+<(.*)>\\) = 0$");

    @FunctionalInterface
    public interface IoAction {
        void run() throws IOException;
    }

    private FsyncTrace() {
    }

    /** Runs {@code action} and returns the paths it synced successfully, in order, each once. */
    public static Set<Path> of(IoAction action) throws IOException, InterruptedException {
        HostRequirement.requireRoot("tracing the test's own system calls");
        HostRequirement.requireCommand("strace", "strace");
        Path output = Files.createTempFile("fsync-trace", ".txt");
        try {
            Process strace = new ProcessBuilder("strace", "-f", "-qq", "-y", "-e", "trace=fsync,fdatasync",
                    "-o", output.toString(), "-p", Long.toString(ProcessHandle.current().pid()))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                awaitTracer(strace);
                action.run();
            } finally {
                strace.destroy();  // SIGTERM: strace detaches and writes what it saw
                if (!strace.waitFor(30, TimeUnit.SECONDS)) {
                    strace.destroyForcibly();
                    throw new IOException("strace did not detach within 30 s");
                }
            }
            return syncedPaths(output);
        } finally {
            Files.deleteIfExists(output);
        }
    }

    /** Waits until strace traces this very thread, which is the one that runs the action. */
    private static void awaitTracer(Process strace) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.readString(Path.of("/proc/thread-self/status")).matches("(?s).*\\nTracerPid:\\s*[1-9].*")) {
            if (!strace.isAlive()) {
                throw new IOException("strace could not attach: exit status " + strace.exitValue());
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("strace did not attach within 30 s");
            }
            Thread.sleep(20);
        }
    }

    private static Set<Path> syncedPaths(Path output) throws IOException {
        Set<Path> synced = new LinkedHashSet<>();
        for (String line : Files.readAllLines(output)) {
            Matcher sync = SYNC.matcher(line);
            if (sync.find()) {
                synced.add(Path.of(sync.group(1)));
            }
        }
        return synced;
    }
}
