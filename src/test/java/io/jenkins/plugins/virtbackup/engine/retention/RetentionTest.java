package io.jenkins.plugins.virtbackup.engine.retention;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.engine.retention.Retention.Candidate;
import io.jenkins.plugins.virtbackup.engine.retention.Retention.Verdict;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Proxmox Backup Server rules, against tables worked out by hand. Each table lists the backups
 * newest first with the rule that keeps each one, or "-" for a removal.
 */
class RetentionTest {
    private static final ZoneId UTC = ZoneOffset.UTC;

    /** Backup name (its time) to the rule expected to keep it, "-" when it goes. */
    private static Map<String, String> decided(List<String> times, RetentionPolicy policy, ZoneId zone) {
        List<Candidate> candidates = new ArrayList<>();
        for (String time : times) {
            candidates.add(new Candidate(time, Instant.parse(time)));
        }
        Map<String, String> decided = new LinkedHashMap<>();
        for (Map.Entry<String, Verdict> entry : Retention.decide(candidates, policy, zone).entrySet()) {
            decided.put(entry.getKey(), entry.getValue().keep() ? entry.getValue().reason() : "-");
        }
        return decided;
    }

    private static Map<String, String> table(String... rows) {
        Map<String, String> table = new LinkedHashMap<>();
        for (int i = 0; i < rows.length; i += 2) {
            table.put(rows[i], rows[i + 1]);
        }
        return table;
    }

    /**
     * keep-last 2, keep-daily 3, keep-weekly 2, keep-monthly 3, keep-yearly 2. Worked out: last keeps
     * 12-03 and 12-02 14:00; daily passes over 12-02 02:00 (its day is kept already) and keeps the
     * next three days; weekly passes over what lies in weeks 49 and 48 and keeps weeks 47 and 46;
     * monthly keeps October, September and 2025-12; yearly finds 2026 and 2025 kept already, so
     * 2025-06 goes although yearly asks for two years.
     */
    @Test
    void everyRuleInOrderWithPeriodsAnEarlierRuleKeptPassedOver() {
        List<String> times = List.of(
                "2026-12-03T02:00:00Z", "2026-12-02T14:00:00Z", "2026-12-02T02:00:00Z", "2026-12-01T02:00:00Z",
                "2026-11-30T02:00:00Z", "2026-11-29T02:00:00Z", "2026-11-22T02:00:00Z", "2026-11-15T02:00:00Z",
                "2026-10-31T02:00:00Z", "2026-09-30T02:00:00Z", "2025-12-31T02:00:00Z", "2025-06-01T02:00:00Z");

        assertThat(decided(times, new RetentionPolicy(2, 0, 3, 2, 3, 2), UTC)).containsExactlyEntriesOf(table(
                "2026-12-03T02:00:00Z", "keep-last",
                "2026-12-02T14:00:00Z", "keep-last",
                "2026-12-02T02:00:00Z", "-",
                "2026-12-01T02:00:00Z", "keep-daily",
                "2026-11-30T02:00:00Z", "keep-daily",
                "2026-11-29T02:00:00Z", "keep-daily",
                "2026-11-22T02:00:00Z", "keep-weekly",
                "2026-11-15T02:00:00Z", "keep-weekly",
                "2026-10-31T02:00:00Z", "keep-monthly",
                "2026-09-30T02:00:00Z", "keep-monthly",
                "2025-12-31T02:00:00Z", "keep-monthly",
                "2025-06-01T02:00:00Z", "-"));
    }

    /** Two backups of one day: the newer is kept, the older removed, and only one day counts. */
    @Test
    void theNewestOfAPeriodIsKeptAndTheOthersGo() {
        Map<String, Verdict> verdicts = Retention.decide(List.of(
                new Candidate("a", Instant.parse("2026-12-03T14:00:00Z")),
                new Candidate("b", Instant.parse("2026-12-03T02:00:00Z")),
                new Candidate("c", Instant.parse("2026-12-02T02:00:00Z")),
                new Candidate("d", Instant.parse("2026-12-01T02:00:00Z"))), new RetentionPolicy(0, 0, 2, 0, 0, 0), UTC);

        assertThat(verdicts).containsExactly(
                Map.entry("a", new Verdict(true, "keep-daily")),
                Map.entry("b", new Verdict(false, "a newer backup of its period (2026/12/03) is kept by keep-daily")),
                Map.entry("c", new Verdict(true, "keep-daily")),
                Map.entry("d", new Verdict(false, "no rule keeps it")));
    }

    /** Periods are local time: 23:30 and 22:30 UTC on 12-02 are two days in Berlin, one in UTC. */
    @Test
    void periodsAreInLocalTime() {
        List<String> times = List.of("2026-12-02T23:30:00Z", "2026-12-02T22:30:00Z");
        RetentionPolicy twoDays = new RetentionPolicy(0, 0, 2, 0, 0, 0);

        assertThat(decided(times, twoDays, ZoneId.of("Europe/Berlin"))).containsExactlyEntriesOf(table(
                "2026-12-02T23:30:00Z", "keep-daily", "2026-12-02T22:30:00Z", "keep-daily"));
        assertThat(decided(times, twoDays, UTC)).containsExactlyEntriesOf(table(
                "2026-12-02T23:30:00Z", "keep-daily", "2026-12-02T22:30:00Z", "-"));
    }

    /**
     * ISO weeks across the year's end: 2027-01-01 is a Friday in week 53 of 2026, with 2026-12-28;
     * 2026-12-27, a Sunday, ends week 52. 2025-12-31 lies in week 1 of 2026.
     */
    @Test
    void weeksAreIsoWeeksOfTheirWeekBasedYear() {
        List<String> times = List.of("2027-01-01T02:00:00Z", "2026-12-28T02:00:00Z", "2026-12-27T02:00:00Z",
                "2026-01-02T02:00:00Z", "2025-12-31T02:00:00Z", "2025-12-27T02:00:00Z");

        assertThat(decided(times, new RetentionPolicy(0, 0, 0, 4, 0, 0), UTC)).containsExactlyEntriesOf(table(
                "2027-01-01T02:00:00Z", "keep-weekly",
                "2026-12-28T02:00:00Z", "-",
                "2026-12-27T02:00:00Z", "keep-weekly",
                "2026-01-02T02:00:00Z", "keep-weekly",
                "2025-12-31T02:00:00Z", "-",
                "2025-12-27T02:00:00Z", "keep-weekly"));
    }

    @Test
    void hourlyCountsHoursThatHaveABackup() {
        List<String> times = List.of("2026-12-03T10:50:00Z", "2026-12-03T10:10:00Z", "2026-12-03T08:30:00Z",
                "2026-12-03T07:59:00Z", "2026-12-03T07:00:00Z");

        assertThat(decided(times, new RetentionPolicy(0, 3, 0, 0, 0, 0), UTC)).containsExactlyEntriesOf(table(
                "2026-12-03T10:50:00Z", "keep-hourly",
                "2026-12-03T10:10:00Z", "-",
                "2026-12-03T08:30:00Z", "keep-hourly",
                "2026-12-03T07:59:00Z", "keep-hourly",
                "2026-12-03T07:00:00Z", "-"));
    }

    /** Backups started in one second are named NAME, NAME-2, ...: keep-last counts each. */
    @Test
    void keepLastCountsBackupsNotSeconds() {
        Instant second = Instant.parse("2026-12-03T02:00:00Z");
        Map<String, Verdict> verdicts = Retention.decide(List.of(new Candidate("20261203T020000Z", second),
                new Candidate("20261203T020000Z-2", second), new Candidate("20261203T020000Z-3", second)),
                new RetentionPolicy(2, 0, 0, 0, 0, 0), UTC);

        assertThat(verdicts).containsExactly(
                Map.entry("20261203T020000Z-3", new Verdict(true, "keep-last")),
                Map.entry("20261203T020000Z-2", new Verdict(true, "keep-last")),
                Map.entry("20261203T020000Z", new Verdict(false, "no rule keeps it")));
    }

    @Test
    void withoutAnyRuleEverythingIsKept() {
        assertThat(decided(List.of("2026-12-03T02:00:00Z", "2020-01-01T00:00:00Z"), RetentionPolicy.KEEP_ALL, UTC))
                .containsOnlyKeys("2026-12-03T02:00:00Z", "2020-01-01T00:00:00Z")
                .allSatisfy((name, rule) -> assertThat(rule).contains("everything is kept"));
        assertThat(RetentionPolicy.KEEP_ALL.keepsSomething()).isFalse();
        assertThat(new RetentionPolicy(0, 0, 7, 4, 0, 0).cliArguments())
                .containsExactly("--keep-daily", "7", "--keep-weekly", "4");
    }
}
