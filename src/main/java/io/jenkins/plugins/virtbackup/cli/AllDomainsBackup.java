package io.jenkins.plugins.virtbackup.cli;

import io.jenkins.plugins.virtbackup.engine.BackupEngine;
import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.BackupRequest;
import io.jenkins.plugins.virtbackup.engine.CompletedBackup;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.batch.BatchResult;
import io.jenkins.plugins.virtbackup.engine.batch.BatchRun;
import io.jenkins.plugins.virtbackup.engine.batch.DomainOutcome;
import io.jenkins.plugins.virtbackup.engine.batch.ExcludePatterns;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.log.ToolErrorLog;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreTest;
import io.jenkins.plugins.virtbackup.engine.retention.PruneRun;
import io.jenkins.plugins.virtbackup.engine.retention.RetentionPolicy;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.libvirt.LibvirtHypervisor;
import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import io.jenkins.plugins.virtbackup.libvirt.QemuNbdWriter;
import io.jenkins.plugins.virtbackup.lvm.LvmCommands;
import java.io.PrintStream;
import java.nio.file.Files;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * {@code virt-backup --all}: every domain of the hypervisor except the excluded ones, each backed up
 * by an engine of its own over one shared connection, then a summary table. The engines' console
 * lines carry the domain's name when several run at once.
 */
final class AllDomainsBackup {
    private final PrintStream out;
    private final boolean verbose;
    private final boolean interactive;
    private final SyslogSink syslog;
    private final StateDirectory state;
    private final int parallel;
    private final ExcludePatterns excludes;
    private final RetentionPolicy retention;
    private final Consumer<VirtBackupCommand.StopAction> whenStopped;

    /**
     * @param parallel    how many domains at once
     * @param retention   what each domain's folder keeps once its backup is complete (--keep-*)
     * @param whenStopped receives what SIGTERM and SIGINT must do: put every domain being backed up back
     */
    AllDomainsBackup(PrintStream out, boolean verbose, boolean interactive, SyslogSink syslog, StateDirectory state,
                     int parallel, ExcludePatterns excludes, RetentionPolicy retention,
                     Consumer<VirtBackupCommand.StopAction> whenStopped) {
        this.out = out;
        this.verbose = verbose;
        // Two domains redrawing one progress line in place would garble it.
        this.interactive = interactive && parallel == 1;
        this.syslog = syslog;
        this.state = state;
        this.parallel = parallel;
        this.excludes = excludes;
        this.retention = retention;
        this.whenStopped = whenStopped;
    }

    /** Backs up every chosen domain of {@code uri} as {@code request} asks (its domain aside). */
    BatchResult run(String uri, BackupRequest request, ToolErrorLog errors) {
        try (BackupLog log = new BackupLog(out, verbose, interactive, syslog)) {
            try (LibvirtHypervisor hypervisor = LibvirtHypervisor.connect(uri, r -> errors.append("libvirt", r))) {
                log.detail("connected to " + hypervisor.uri());
                List<String> domains = choose(hypervisor.domainNames(), log);
                log.milestone("backup of " + domains.size() + " domain(s) started, " + parallel + " at a time: "
                        + String.join(", ", domains));
                BatchRun batch = new BatchRun(parallel, name -> new EngineJob(hypervisor, request.forDomain(name),
                        errors, domainLog(name)));
                whenStopped.accept(batch::stop);
                List<DomainOutcome> outcomes = batch.run(domains);
                BatchResult result = BatchResult.of(outcomes);
                SummaryTable.print(outcomes, out);
                reportEnd(log, outcomes, result.status());
                if (result.status() != ExitStatus.OK.code() && Files.exists(errors.file())) {
                    log.detail("error reports of libvirt and external tools are in " + errors.file());
                }
                return result;
            } catch (HypervisorException e) {
                log.error(e.getMessage());
                return BatchResult.withoutDomains(e.kind() == HypervisorException.Kind.UNREACHABLE
                        ? ExitStatus.HYPERVISOR_UNREACHABLE.code() : ExitStatus.BACKUP_FAILED.code());
            } catch (BackupException e) {
                log.error(e.getMessage());
                return BatchResult.withoutDomains(e.status().code());
            }
        }
    }

    /** The hypervisor's domains but the excluded; none left is exit 3, as a missing DOMAIN is. */
    private List<String> choose(List<String> all, BackupLog log) throws BackupException {
        for (String unused : excludes.matchingNone(all)) {
            log.notice("--exclude '" + unused + "' matches no domain");
        }
        List<String> chosen = new ArrayList<>();
        List<String> excluded = new ArrayList<>();
        for (String name : all) {
            (excludes.excludes(name) || RestoreTest.isClone(name) ? excluded : chosen).add(name);
        }
        if (!excluded.isEmpty()) {
            log.detail("excluded: " + String.join(", ", excluded));
        }
        if (chosen.isEmpty()) {
            throw new BackupException(ExitStatus.NOT_FOUND, all.isEmpty() ? "no domain to back up: the hypervisor has none"
                    : "no domain to back up: --exclude leaves out all " + all.size() + " of them");
        }
        return chosen;
    }

    private BackupLog domainLog(String domain) {
        return new BackupLog(out, verbose, interactive, syslog, parallel > 1 ? "[" + domain + "] " : "");
    }

    /** The run's last line, to the console and syslog: what completed, and who failed with which code. */
    private static void reportEnd(BackupLog log, List<DomainOutcome> outcomes, int worst) {
        List<DomainOutcome> failed = outcomes.stream().filter(o -> o.status() != ExitStatus.OK).toList();
        String counts = outcomes.size() + " domain(s): " + (outcomes.size() - failed.size()) + " complete";
        if (failed.isEmpty()) {
            log.milestone("backup of " + counts);
        } else {
            log.error("backup of " + counts + ", " + failed.size() + " failed ("
                    + failed.stream().map(o -> o.domain() + ": exit " + o.status().code())
                    .collect(Collectors.joining(", ")) + "); exit code " + worst);
        }
    }

    /** One domain's engine, with a log of its own. */
    private final class EngineJob implements BatchRun.DomainJob {
        private final BackupRequest request;
        private final BackupLog log;
        private final BackupEngine engine;

        EngineJob(LibvirtHypervisor hypervisor, BackupRequest request, ToolErrorLog errors, BackupLog log) {
            this.request = request;
            this.log = log;
            this.engine = new BackupEngine(hypervisor, log, state, new LinuxFileExtents(),
                    new QemuNbdWriter(BackupDirectory.FILE_MODE, errors::append), new LvmCommands(errors::append));
        }

        @Override
        public CompletedBackup run() throws BackupException {
            CompletedBackup backup = engine.run(request);
            try {
                new PruneRun(log, state, ZoneId.systemDefault()).pruneAfter(backup, retention);
            } catch (BackupException e) {
                log.error(e.getMessage());
                throw e;
            }
            return backup;
        }

        @Override
        public void cancel() {
            try {
                engine.cancel();
            } catch (BackupException e) {
                // cancel() logged nothing itself: this is the one report of it.
                log.critical(e.getMessage());
            }
        }

        @Override
        public void close() {
            log.close();
        }
    }
}
