package io.jenkins.plugins.virtbackup.engine.retention;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * How many backups prune keeps, by the rules of Proxmox Backup Server: a count per rule, 0 for a
 * rule not given. The rules apply in the order of {@link Rule}.
 */
public record RetentionPolicy(int keepLast, int keepHourly, int keepDaily, int keepWeekly, int keepMonthly,
                             int keepYearly) {

    /** Keeps every backup: no rule given. */
    public static final RetentionPolicy KEEP_ALL = new RetentionPolicy(0, 0, 0, 0, 0, 0);

    public RetentionPolicy {
        for (int count : new int[] {keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly}) {
            if (count < 0) {
                throw new IllegalArgumentException("a --keep count cannot be negative");
            }
        }
    }

    /**
     * A rule: its option name and the period a backup's local time falls in. Two backups in one
     * period count once; the newer is the one kept.
     */
    public enum Rule {
        /** Every backup is a period of its own: two started in one second are two backups. */
        LAST("keep-last", null),
        HOURLY("keep-hourly", time -> time.format(DateTimeFormatter.ofPattern("yyyy/MM/dd/HH"))),
        DAILY("keep-daily", time -> time.format(DateTimeFormatter.ofPattern("yyyy/MM/dd"))),
        // ISO weeks (Monday to Sunday), numbered within their week-based year, as %G/%V.
        WEEKLY("keep-weekly", time -> time.get(IsoFields.WEEK_BASED_YEAR) + "/"
                + String.format(Locale.ROOT, "%02d", time.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR))),
        MONTHLY("keep-monthly", time -> time.format(DateTimeFormatter.ofPattern("yyyy/MM"))),
        YEARLY("keep-yearly", time -> time.format(DateTimeFormatter.ofPattern("yyyy")));

        private final String option;
        private final Function<ZonedDateTime, String> period;

        Rule(String option, Function<ZonedDateTime, String> period) {
            this.option = option;
            this.period = period;
        }

        public String option() {
            return option;
        }

        /** The period of a backup named {@code name}, taken at {@code time}, in {@code zone}'s local time. */
        String period(String name, Instant time, ZoneId zone) {
            return period == null ? name : period.apply(time.atZone(zone));
        }
    }

    public int count(Rule rule) {
        return switch (rule) {
            case LAST -> keepLast;
            case HOURLY -> keepHourly;
            case DAILY -> keepDaily;
            case WEEKLY -> keepWeekly;
            case MONTHLY -> keepMonthly;
            case YEARLY -> keepYearly;
        };
    }

    /** False when no rule is given: then every backup is kept. */
    public boolean keepsSomething() {
        for (Rule rule : Rule.values()) {
            if (count(rule) > 0) {
                return true;
            }
        }
        return false;
    }

    /** The rules given, as command line options ({@code --keep-daily 7 ...}). */
    public List<String> cliArguments() {
        List<String> args = new ArrayList<>();
        for (Rule rule : Rule.values()) {
            if (count(rule) > 0) {
                args.add("--" + rule.option());
                args.add(Integer.toString(count(rule)));
            }
        }
        return args;
    }

    @Override
    public String toString() {
        return keepsSomething() ? String.join(" ", cliArguments()) : "keep everything";
    }
}
