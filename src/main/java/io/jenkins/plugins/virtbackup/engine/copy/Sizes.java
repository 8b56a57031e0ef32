package io.jenkins.plugins.virtbackup.engine.copy;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Human-readable byte counts for messages. */
public final class Sizes {
    private Sizes() {
    }

    public static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    /**
     * A size as an admin writes it: a number of bytes, or with a binary unit as LVM takes it
     * ({@code 512M}, {@code 2G}, {@code 1T}, also {@code K}; {@code MiB} and the like too).
     *
     * @throws IllegalArgumentException when it is none
     */
    public static long parse(String text) {
        Matcher m = Pattern.compile("(\\d+)\\s*([KMGT]?)(i?B)?",
                Pattern.CASE_INSENSITIVE).matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size (e.g. 512M, 2G)");
        }
        String unit = m.group(2).toUpperCase(Locale.ROOT);
        int shift = unit.isEmpty() ? 0 : "KMGT".indexOf(unit) + 1;
        try {
            long number = Long.parseLong(m.group(1));
            if (number <= (Long.MAX_VALUE >> (10 * shift))) {
                return number << (10 * shift);
            }
        } catch (NumberFormatException e) {
            // more digits than a long holds: too large, as below
        }
        throw new IllegalArgumentException("'" + text + "' is too large");
    }
}
