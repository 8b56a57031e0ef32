package io.jenkins.plugins.virtbackup.engine.restore;

import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreResult.TestOutcome;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;

/** Watches a restore test's clone until it shows life by its {@link LifeProof}, stops, or runs out of time. */
final class LifeWatch {
    private static final long POLL_MILLIS = 500;

    private final VirtualMachine clone;
    private final LifeProof proof;
    private final Path consoleLog;
    private final Pattern consolePattern;

    LifeWatch(VirtualMachine clone, LifeProof proof, Path consoleLog, Pattern consolePattern) {
        this.clone = clone;
        this.proof = proof;
        this.consoleLog = consoleLog;
        this.consolePattern = consolePattern;
    }

    /**
     * Waits for proof of life.
     *
     * @param startedNanos when the clone was started ({@link System#nanoTime}), what the time to life counts from
     */
    TestOutcome await(long startedNanos, Duration timeout, BooleanSupplier cancelled) throws InterruptedException {
        long deadline = startedNanos + timeout.toNanos();
        while (true) {
            double seconds = (System.nanoTime() - startedNanos) / 1e9;
            if (!running()) {
                return failed(String.format(Locale.ROOT, "the clone stopped after %.1f s without showing life", seconds)
                        + lastConsoleLine());
            }
            String sign = sign();
            if (sign != null) {
                return new TestOutcome(true, proof.cliName(), round(seconds), sign);
            }
            if (System.nanoTime() > deadline) {
                if (proof == LifeProof.RUNNING) {
                    return new TestOutcome(true, proof.cliName(), round(seconds), String.format(Locale.ROOT,
                            "still running after %.0f s (a weak proof: the domain has no guest agent channel and no "
                                    + "serial port to show more)", seconds));
                }
                return failed("no " + (proof == LifeProof.AGENT ? "answer from the guest agent"
                        : consolePattern == null ? "line on the serial console"
                        : "console line matching '" + consolePattern + "'")
                        + " within " + timeout.toSeconds() + " s" + lastConsoleLine());
            }
            if (cancelled.getAsBoolean()) {
                return failed("the restore test was stopped");
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    private TestOutcome failed(String detail) {
        return new TestOutcome(false, proof.cliName(), null, detail);
    }

    private boolean running() {
        try {
            DomainState state = clone.state();
            return state == DomainState.RUNNING || state == DomainState.PAUSED;
        } catch (HypervisorException gone) {
            return false;  // a transient clone that stopped is gone
        }
    }

    /** What proves life now, in one line; null while nothing does. */
    private String sign() {
        switch (proof) {
            case AGENT:
                try {
                    return clone.pingGuestAgent() ? "the guest agent answered guest-ping" : null;
                } catch (HypervisorException e) {
                    return null;
                }
            case CONSOLE:
                for (String line : consoleLines()) {
                    if (consolePattern == null ? !line.isBlank() : consolePattern.matcher(line).find()) {
                        return "the guest wrote to its serial console: " + line.strip();
                    }
                }
                return null;
            default:
                return null;
        }
    }

    private String lastConsoleLine() {
        List<String> lines = consoleLines().stream().filter(line -> !line.isBlank()).toList();
        return lines.isEmpty() ? "" : "; its console's last line: " + lines.get(lines.size() - 1).strip();
    }

    /** The console's lines so far, without control characters; none when there is no console log. */
    private List<String> consoleLines() {
        if (consoleLog == null) {
            return List.of();
        }
        try {
            String text = new String(Files.readAllBytes(consoleLog), StandardCharsets.UTF_8);
            return text.replaceAll("[\\p{Cntrl}&&[^\\n]]", "").lines().toList();
        } catch (NoSuchFileException notYet) {
            return List.of();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static double round(double seconds) {
        return Math.round(seconds * 10) / 10.0;
    }
}
