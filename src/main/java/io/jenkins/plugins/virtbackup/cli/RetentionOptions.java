package io.jenkins.plugins.virtbackup.cli;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.retention.RetentionPolicy;
import picocli.CommandLine.Option;

/** The {@code --keep-*} options, the same on {@code prune} and on a backup run (a picocli mixin). */
final class RetentionOptions {
    @Option(names = "--keep-last", paramLabel = "N", description = "Keep the N newest backups.")
    int keepLast;

    @Option(names = "--keep-hourly", paramLabel = "N",
            description = "Keep the newest backup of each of the last N hours that have one.")
    int keepHourly;

    @Option(names = "--keep-daily", paramLabel = "N",
            description = "Keep the newest backup of each of the last N days that have one.")
    int keepDaily;

    @Option(names = "--keep-weekly", paramLabel = "N",
            description = "Keep the newest backup of each of the last N ISO weeks that have one.")
    int keepWeekly;

    @Option(names = "--keep-monthly", paramLabel = "N",
            description = "Keep the newest backup of each of the last N months that have one.")
    int keepMonthly;

    @Option(names = "--keep-yearly", paramLabel = "N",
            description = "Keep the newest backup of each of the last N years that have one.")
    int keepYearly;

    RetentionPolicy policy() throws BackupException {
        try {
            return new RetentionPolicy(keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly);
        } catch (IllegalArgumentException e) {
            throw new BackupException(ExitStatus.USAGE, e.getMessage());
        }
    }
}
