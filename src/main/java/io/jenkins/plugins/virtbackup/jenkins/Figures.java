package io.jenkins.plugins.virtbackup.jenkins;

import io.jenkins.plugins.virtbackup.engine.copy.Sizes;
import java.util.Locale;

/** The figures of the build and job pages as people read them: sizes, durations, rates. */
final class Figures {
    private Figures() {
    }

    /** {@code 412 B}, {@code 3.0 MiB}; the text for unknown when {@code bytes} is negative. */
    static String bytes(long bytes) {
        return bytes < 0 ? Messages.BuildPages_unknown() : Sizes.human(bytes);
    }

    /** {@code 412 ms}, {@code 7.3 s}, {@code 2 min 05 s}, {@code 1 h 02 min}; unknown when negative. */
    static String duration(long millis) {
        if (millis < 0) {
            return Messages.BuildPages_unknown();
        }
        if (millis < 1000) {
            return millis + " ms";
        }
        if (millis < 60_000) {
            return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
        }
        long seconds = millis / 1000;
        if (seconds < 3600) {
            return String.format(Locale.ROOT, "%d min %02d s", seconds / 60, seconds % 60);
        }
        return String.format(Locale.ROOT, "%d h %02d min", seconds / 3600, seconds / 60 % 60);
    }

    /** Data per second of the run; unknown when either figure is, or the run took no time to measure. */
    static String throughput(long bytes, long millis) {
        if (bytes < 0 || millis <= 0) {
            return Messages.BuildPages_unknown();
        }
        return Sizes.human(bytes * 1000 / millis) + "/s";
    }
}
