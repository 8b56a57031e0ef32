package io.jenkins.plugins.virtbackup.engine.retention;

import io.jenkins.plugins.virtbackup.engine.retention.RetentionPolicy.Rule;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which backups a {@link RetentionPolicy} keeps, exactly as Proxmox Backup Server decides it. The
 * backups are walked newest first, once per rule, in the rules' order. A rule keeps the newest
 * backup of each period it has not seen yet, until it has kept its count of periods; a newer
 * backup of a period it already kept is marked for removal. A backup an earlier rule decided on is
 * passed over, and so is every backup in a period an earlier rule already kept one of: such periods
 * do not count. Backups no rule kept are removed; without any rule, all are kept.
 */
public final class Retention {
    private Retention() {
    }

    /** A backup as retention sees it: its folder name and the time it was taken. */
    public record Candidate(String name, Instant time) {
    }

    /**
     * What is decided about a backup.
     *
     * @param keep   whether it stays
     * @param reason the rule that kept it ({@code keep-daily}), or why it goes
     */
    public record Verdict(boolean keep, String reason) {
    }

    /**
     * Decides on every candidate.
     *
     * @param zone the time zone whose hours, days, weeks, months and years the periods are
     * @return a verdict per candidate's name, newest first
     */
    public static Map<String, Verdict> decide(List<Candidate> candidates, RetentionPolicy policy, ZoneId zone) {
        List<Candidate> newestFirst = candidates.stream()
                .sorted(Comparator.comparing(Candidate::time).thenComparing(Candidate::name).reversed()).toList();
        Map<String, Verdict> verdicts = new LinkedHashMap<>();
        if (!policy.keepsSomething()) {
            newestFirst.forEach(c -> verdicts.put(c.name(), new Verdict(true, "no --keep option: everything is kept")));
            return verdicts;
        }
        for (Rule rule : Rule.values()) {
            if (policy.count(rule) > 0) {
                apply(rule, policy.count(rule), newestFirst, verdicts, zone);
            }
        }
        Map<String, Verdict> ordered = new LinkedHashMap<>();
        for (Candidate candidate : newestFirst) {
            ordered.put(candidate.name(), verdicts.getOrDefault(candidate.name(),
                    new Verdict(false, "no rule keeps it")));
        }
        return ordered;
    }

    private static void apply(Rule rule, int count, List<Candidate> newestFirst, Map<String, Verdict> verdicts,
                              ZoneId zone) {
        Set<String> keptBefore = new HashSet<>();
        for (Candidate candidate : newestFirst) {
            Verdict verdict = verdicts.get(candidate.name());
            if (verdict != null && verdict.keep()) {
                keptBefore.add(rule.period(candidate.name(), candidate.time(), zone));
            }
        }
        Set<String> kept = new HashSet<>();
        for (Candidate candidate : newestFirst) {
            if (verdicts.containsKey(candidate.name())) {
                continue;
            }
            String period = rule.period(candidate.name(), candidate.time(), zone);
            if (keptBefore.contains(period)) {
                continue;
            }
            if (kept.contains(period)) {
                verdicts.put(candidate.name(), new Verdict(false, "a newer backup of its period ("
                        + period + ") is kept by " + rule.option()));
            } else if (kept.size() < count) {
                kept.add(period);
                verdicts.put(candidate.name(), new Verdict(true, rule.option()));
            } else {
                return;
            }
        }
    }
}
