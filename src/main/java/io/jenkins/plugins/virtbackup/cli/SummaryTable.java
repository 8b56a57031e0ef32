package io.jenkins.plugins.virtbackup.cli;

import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.batch.DomainOutcome;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The table {@code --all} prints at the end: one row per domain with its exit code, what the code
 * means, how long it took, and its backup's directory or the reason it failed (last, as the longest).
 */
final class SummaryTable {
    static final String[] HEADINGS = {"DOMAIN", "EXIT", "MEANING", "DURATION", "BACKUP OR ERROR"};

    private SummaryTable() {
    }

    static void print(List<DomainOutcome> outcomes, PrintStream out) {
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADINGS);
        for (DomainOutcome outcome : outcomes) {
            rows.add(new String[] {outcome.domain(), Integer.toString(outcome.status().code()),
                meaning(outcome.status()), seconds(outcome), outcome.backup() != null
                        ? outcome.backup().directory().toString() : outcome.error()});
        }
        int[] widths = new int[HEADINGS.length - 1];
        for (String[] row : rows) {
            for (int i = 0; i < widths.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        StringBuilder text = new StringBuilder();
        for (String[] row : rows) {
            for (int i = 0; i < widths.length; i++) {
                text.append(row[i]).append(" ".repeat(widths[i] - row[i].length() + 2));
            }
            text.append(row[widths.length]).append(System.lineSeparator());
        }
        synchronized (out) {
            out.print(text);
            out.flush();
        }
    }

    private static String seconds(DomainOutcome outcome) {
        return String.format(Locale.ROOT, "%.1f s", outcome.duration().toMillis() / 1000.0);
    }

    /** A few words for each exit code, as the usage's list says it at length. */
    static String meaning(ExitStatus status) {
        switch (status) {
            case OK:
                return "complete";
            case BACKUP_FAILED:
                return "failed, domain as found";
            case USAGE:
                return "usage error";
            case NOT_FOUND:
                return "not found";
            case HYPERVISOR_UNREACHABLE:
                return "hypervisor unreachable";
            case VM_NOT_RESTORED:
                return "DOMAIN NOT PUT BACK";
            case BUSY:
                return "busy: another run";
            case CHAIN_BROKEN:
                return "chain broken, nothing written";
            default:
                return status.name().toLowerCase(Locale.ROOT).replace('_', ' ');
        }
    }
}
