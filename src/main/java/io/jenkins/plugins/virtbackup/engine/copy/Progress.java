package io.jenkins.plugins.virtbackup.engine.copy;

import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import java.util.Locale;

/**
 * Progress of one long copy: percent, rate and time left. On a terminal the line is redrawn in
 * place twice a second; elsewhere (cron mail, Jenkins logs) a plain line is printed every ten
 * seconds, with {@code -v} only.
 */
public final class Progress {
    private static final long TERMINAL_INTERVAL_NANOS = 500_000_000L;
    private static final long PLAIN_INTERVAL_NANOS = 10_000_000_000L;

    private final BackupLog log;
    private final String what;
    private final long intervalNanos;
    private final long started = System.nanoTime();
    private long lastShown = started;
    private long lastDone;
    private long lastTotal;

    public Progress(BackupLog log, String what) {
        this(log, what, log.isInteractive() ? TERMINAL_INTERVAL_NANOS : PLAIN_INTERVAL_NANOS);
    }

    /** @param intervalNanos the least time between two lines */
    public Progress(BackupLog log, String what, long intervalNanos) {
        this.log = log;
        this.what = what;
        this.intervalNanos = intervalNanos;
    }

    /** Reports {@code done} of {@code total} bytes (total 0 when not known yet); cheap to call often. */
    public void update(long done, long total) {
        lastDone = done;
        lastTotal = total;
        long now = System.nanoTime();
        if (now - lastShown >= intervalNanos) {
            lastShown = now;
            log.progress(line(now));
        }
    }

    /** Clears a redrawn line; prints nothing when no progress was shown. */
    public void done() {
        if (lastShown != started) {
            log.progressDone();
        }
    }

    private String line(long now) {
        double seconds = Math.max(1e-3, (now - started) / 1e9);
        double rate = lastDone / seconds;
        if (lastTotal <= 0) {
            return String.format(Locale.ROOT, "%s: %s, %.0f MiB/s", what, Sizes.human(lastDone), rate / (1 << 20));
        }
        long left = rate > 0 ? (long) ((lastTotal - lastDone) / rate) : 0;
        return String.format(Locale.ROOT, "%s: %3d%% of %s, %.0f MiB/s, ETA %d:%02d", what,
                lastDone * 100 / lastTotal, Sizes.human(lastTotal), rate / (1 << 20), left / 60, left % 60);
    }
}
