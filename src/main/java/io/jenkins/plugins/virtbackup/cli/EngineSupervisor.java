package io.jenkins.plugins.virtbackup.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import sun.misc.Signal;

/**
 * The process a Jenkins step starts on the node: it starts the engine detached from itself and relays
 * the engine's output and exit code. {@code java -cp virt-backup-cli.jar ...EngineSupervisor RUN_DIR
 * ARG...} runs {@code java -jar virt-backup-cli.jar ARG...}.
 *
 * <p>Why not run the engine directly: when a build is aborted, Jenkins signals the process it started
 * and all its descendants, children first, and every process carrying its cookie variable. With
 * {@code qemu+ssh://} the engine's {@code ssh} child is the connection the engine needs to put the
 * domain back, and would go first. Here the engine is no descendant of this process (a shell starts it
 * in the background and exits) and carries none of Jenkins' cookie variables; the SIGTERM meant for it
 * reaches this process, which passes it on to the engine alone and waits for the engine to end.
 *
 * <p>The engine writes to {@code RUN_DIR/engine.log}, not to a pipe: if the agent or the controller
 * goes away, nothing the engine writes can block or fail, and it finishes on its own. Its exit code is
 * written to {@code RUN_DIR/exit-code} when it ends; its pid to {@code RUN_DIR/engine.pid}.
 */
public final class EngineSupervisor {
    public static final String LOG_FILE = "engine.log";
    public static final String PID_FILE = "engine.pid";
    public static final String EXIT_FILE = "exit-code";
    /** Variables by which Jenkins finds the processes of a step or a build to kill them. */
    static final List<String> JENKINS_COOKIES = List.of("HUDSON_COOKIE", "JENKINS_NODE_COOKIE",
            "JENKINS_SERVER_COOKIE");
    /** Exit code when the engine could not be started or ended without saying how. */
    static final int LOST = 1;
    private static final long POLL_MILLIS = 100;
    /** How long the engine may take to write its pid once started. */
    private static final long START_MILLIS = 30_000;
    /** How long the relay may take to hand the last lines on; a pipe nobody reads must not keep us. */
    private static final long LAST_LINES_MILLIS = 10_000;

    /**
     * Started in the background by a shell that exits at once, so the engine is reparented away from
     * this process, and in a session of its own where {@code setsid} exists: a hangup or a Ctrl-C for
     * the agent's process group does not reach it. The inner shell waits for the engine and writes its
     * exit code. Arguments: {@code RUN_DIR COMMAND...}.
     */
    private static final String DETACH_SCRIPT = String.join("\n",
            "run=$1; shift",
            "session=$(command -v setsid || true)",
            "(",
            "  $session \"$@\" </dev/null >>\"$run/" + LOG_FILE + "\" 2>&1 &",
            "  echo $! >\"$run/" + PID_FILE + ".tmp\" && mv \"$run/" + PID_FILE + ".tmp\" \"$run/" + PID_FILE + "\"",
            "  wait $!",
            "  echo $? >\"$run/" + EXIT_FILE + ".tmp\" && mv \"$run/" + EXIT_FILE + ".tmp\" \"$run/" + EXIT_FILE + "\"",
            ") &");

    private final Path runDir;
    private final PrintStream out;
    private final long lastLinesMillis;
    private volatile boolean stopRequested;

    EngineSupervisor(Path runDir, PrintStream out) {
        this(runDir, out, LAST_LINES_MILLIS);
    }

    /** @param lastLinesMillis how long the end may wait for our output to take the last lines */
    EngineSupervisor(Path runDir, PrintStream out, long lastLinesMillis) {
        this.runDir = runDir;
        this.out = out;
        this.lastLinesMillis = lastLinesMillis;
    }

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: EngineSupervisor RUN_DIR [virt-backup ARG...]");
            System.exit(2);
        }
        List<String> engineArgs = Arrays.asList(args).subList(1, args.length);
        System.exit(supervise(Path.of(args[0]), engineCommand(engineArgs)));
    }

    /**
     * Runs {@code command} detached, relaying its output to ours, and returns its exit code. A SIGTERM
     * or SIGINT for this process is passed on to the command as SIGTERM. A SIGHUP is not: it means the
     * agent's terminal went, and the engine finishes as it does when the agent goes.
     */
    static int supervise(Path runDir, List<String> command) {
        EngineSupervisor supervisor = new EngineSupervisor(runDir, System.out);
        for (String name : List.of("TERM", "INT")) {
            Signal.handle(new Signal(name), signal -> supervisor.stop());
        }
        Signal.handle(new Signal("HUP"), signal -> { });
        return supervisor.run(command);
    }

    /** {@code java -jar} this very jar, with this process's own Java. */
    static List<String> engineCommand(List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-jar");
        command.add(ownJar().toString());
        command.addAll(args);
        return command;
    }

    private static Path ownJar() {
        try {
            return Path.of(EngineSupervisor.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("the supervisor's own jar has no path", e);
        }
    }

    /** Starts the engine detached, relays its output until it ends, and returns its exit code. */
    int run(List<String> engineCommand) {
        try {
            detach(engineCommand);
            long pid = awaitPid();
            return relayUntilEnd(pid);
        } catch (IOException e) {
            out.println("virt-backup: error: " + e.getMessage());
            return LOST;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return LOST;
        }
    }

    /** A SIGTERM (or SIGINT) for this process: the engine gets a SIGTERM, and we wait for it. */
    void stop() {
        stopRequested = true;
        signalEngine();
    }

    private void detach(List<String> engineCommand) throws IOException, InterruptedException {
        Files.createDirectories(runDir);
        // Here, not by the shell's redirection: that happens in the background, maybe after we read.
        Files.write(runDir.resolve(LOG_FILE), new byte[0]);
        List<String> shell = new ArrayList<>(List.of("sh", "-c", DETACH_SCRIPT, "sh", runDir.toString()));
        shell.addAll(engineCommand);
        ProcessBuilder builder = new ProcessBuilder(shell).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectInput(ProcessBuilder.Redirect.PIPE);
        Map<String, String> env = builder.environment();
        JENKINS_COOKIES.forEach(env::remove);
        Process shellProcess = builder.start();
        shellProcess.getOutputStream().close();
        if (shellProcess.waitFor() != 0) {
            throw new IOException("could not start the engine: sh exited with " + shellProcess.exitValue());
        }
    }

    private long awaitPid() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_MILLIS);
        while (true) {
            Optional<Long> pid = readNumber(PID_FILE);
            if (pid.isPresent()) {
                if (stopRequested) {
                    signalEngine();  // the stop came before we knew whom to tell
                }
                return pid.get();
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("the engine did not start within " + START_MILLIS / 1000 + " s (no "
                        + runDir.resolve(PID_FILE) + ")");
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /**
     * Copies what the engine writes to its log onto our output until its exit code is there. A
     * process that is gone without one (its shell was killed) counts as lost.
     */
    private int relayUntilEnd(long pid) throws IOException, InterruptedException {
        Relay relay = new Relay(out);
        relay.start();
        try (InputStream log = Files.newInputStream(runDir.resolve(LOG_FILE))) {
            byte[] buffer = new byte[1 << 16];
            boolean goneWithoutCode = false;
            while (true) {
                Optional<Long> code = readNumber(EXIT_FILE);
                relay.drain(log, buffer);
                if (code.isPresent()) {
                    relay.finish(lastLinesMillis);
                    return code.get().intValue();
                }
                if (!isAlive(pid)) {
                    if (goneWithoutCode) {
                        relay.offer(("virt-backup: error: the engine (pid " + pid + ") ended without an exit code\n")
                                .getBytes(StandardCharsets.UTF_8));
                        relay.finish(lastLinesMillis);
                        return LOST;
                    }
                    goneWithoutCode = true;  // its shell may still be writing the code: one more round
                }
                Thread.sleep(POLL_MILLIS);
            }
        }
    }

    private void signalEngine() {
        readNumber(PID_FILE).flatMap(ProcessHandle::of).ifPresent(ProcessHandle::destroy);
    }

    private static boolean isAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private Optional<Long> readNumber(String fileName) {
        try {
            String text = Files.readString(runDir.resolve(fileName), StandardCharsets.US_ASCII).trim();
            return text.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(text));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();  // not there yet, or being written: the next poll reads it
        }
    }

    /**
     * Hands the log's bytes to our output in a thread of its own: when nobody reads our output any
     * more (the agent lost its controller), that thread blocks, not the wait for the engine's end.
     */
    private static final class Relay extends Thread {
        private static final byte[] END = new byte[0];
        private final OutputStream out;
        private final BlockingQueue<byte[]> chunks = new ArrayBlockingQueue<>(256);

        Relay(OutputStream out) {
            super("virt-backup-relay");
            setDaemon(true);
            this.out = out;
        }

        /** Queues what the log has gained; drops it when the queue is full (the log file keeps it). */
        void drain(InputStream log, byte[] buffer) throws IOException {
            for (int n; (n = log.read(buffer)) > 0; ) {
                offer(Arrays.copyOf(buffer, n));
            }
        }

        void offer(byte[] bytes) {
            chunks.offer(bytes);
        }

        void finish(long millis) throws InterruptedException {
            chunks.offer(END, millis, TimeUnit.MILLISECONDS);
            join(millis);
        }

        @Override
        public void run() {
            try {
                for (byte[] chunk; (chunk = chunks.take()) != END; ) {
                    out.write(chunk);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // Nobody reads us any more; the engine's log file has every line.
            }
        }
    }
}
