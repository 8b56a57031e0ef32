package io.jenkins.plugins.virtbackup.cli;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.retention.PruneRun;
import io.jenkins.plugins.virtbackup.engine.retention.RetentionPolicy;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code virt-backup prune [-d DIR] [--keep-* N]... [--dry-run] DOMAIN...|--all}. */
@Command(name = "prune", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Remove the backups of each DOMAIN (in DIR/DOMAIN) that no --keep option keeps, by the "
                + "rules of Proxmox Backup Server: the options apply in the order last, hourly, daily, weekly, "
                + "monthly, yearly, each walking the backups newest first and keeping the newest backup of each "
                + "period (local time) that no earlier option kept, for N periods. A backup that a kept inc or "
                + "diff reads through is kept too. Without any --keep option every backup is kept.",
                "Only complete backups of virt-backup's layout are ever removed: unfinished (.partial) ones, "
                + "other folders and files, and backups of other domains are left alone."})
final class PruneCommand implements Callable<Integer> {
    @Option(names = {"-d", "--dir"}, paramLabel = "DIR",
            description = "The backup root (default: /var/backups/virt-backup).")
    Path backupRoot;

    @Mixin
    RetentionOptions retention;

    @Option(names = "--dry-run", description = "Print what would be kept and removed; remove nothing.")
    boolean dryRun;

    @Option(names = "--all", description = "Every domain folder under DIR.")
    boolean all;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where the locks live (default: $VIRT_BACKUP_STATE_DIR, else /var/lib/virt-backup).")
    Path stateDir;

    @Option(names = {"-v", "--verbose"}, description = "Print every step.")
    boolean verbose;

    @Parameters(paramLabel = "DOMAIN", arity = "0..*", description = "The domains whose backups to prune.")
    List<String> domains = new ArrayList<>();

    private final PrintStream out;
    private final SyslogSink syslog;

    PruneCommand(PrintStream out, SyslogSink syslog) {
        this.out = out;
        this.syslog = syslog;
    }

    @Override
    public Integer call() {
        try (BackupLog log = new BackupLog(out, verbose, syslog)) {
            ExitStatus worst = ExitStatus.OK;
            try {
                RetentionPolicy policy = retention.policy();
                Path root = backupRoot != null ? backupRoot : VirtBackupCommand.DEFAULT_BACKUP_ROOT;
                PruneRun prune = new PruneRun(log, VirtBackupCommand.stateDirectory(stateDir), ZoneId.systemDefault());
                for (Path folder : domainFolders(root)) {
                    try {
                        prune.prune(folder, policy, dryRun);
                    } catch (BackupException e) {
                        log.error(e.getMessage());
                        worst = e.status();
                    }
                }
            } catch (BackupException e) {
                log.error(e.getMessage());
                return e.status().code();
            }
            return worst.code();
        }
    }

    private List<Path> domainFolders(Path root) throws BackupException {
        if (all == !domains.isEmpty()) {
            throw new BackupException(ExitStatus.USAGE, all ? "--all prunes every domain: name none"
                    : "no DOMAIN given (or --all); see virt-backup prune -h");
        }
        List<Path> folders = new ArrayList<>();
        if (!all) {
            for (String domain : domains) {
                BackupDirectory.checkSafeName(domain);
                folders.add(root.resolve(domain));
            }
            return folders;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path entry : entries) {
                if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    folders.add(entry);
                }
            }
        } catch (IOException e) {
            throw new BackupException(ExitStatus.NOT_FOUND, "cannot list the backup root " + root + ": "
                    + BackupDirectory.describe(e));
        }
        folders.sort(null);
        return folders;
    }
}
