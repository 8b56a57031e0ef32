package io.jenkins.plugins.virtbackup.cli;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.Hypervisor;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.recovery.RecoverRun;
import io.jenkins.plugins.virtbackup.libvirt.LibvirtHypervisor;
import io.jenkins.plugins.virtbackup.lvm.LvmCommands;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code virt-backup recover [DOMAIN...]}: finishes what interrupted runs left, and nothing else. */
@Command(name = "recover", sortOptions = false, mixinStandardHelpOptions = true,
        description = "Put domains back as an interrupted backup found them (their recovery journals), "
                + "remove its unfinished backup. Without DOMAIN: every domain with a journal on this hypervisor.")
final class RecoverCommand implements Callable<Integer> {
    @Option(names = {"-c", "--connect"}, paramLabel = "URI", description = "Hypervisor URI.")
    String uri;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where domain locks and recovery journals live (default: /var/lib/virt-backup).")
    Path stateDir;

    @Option(names = {"-v", "--verbose"}, description = "Print every step.")
    boolean verbose;

    @Parameters(paramLabel = "DOMAIN", arity = "0..*", description = "Domains to recover.")
    List<String> domains = new ArrayList<>();

    private final PrintStream out;
    private final SyslogSink syslog;

    RecoverCommand(PrintStream out, SyslogSink syslog) {
        this.out = out;
        this.syslog = syslog;
    }

    @Override
    public Integer call() {
        try (BackupLog log = new BackupLog(out, verbose, syslog);
             LibvirtHypervisor hypervisor = LibvirtHypervisor.connect(uri, report -> { })) {
            // No backup root here to keep an error log in: the tools' complaints come back in the messages.
            RecoverRun recoverer = new RecoverRun(hypervisor, log, VirtBackupCommand.stateDirectory(stateDir),
                    new LvmCommands((tool, report) -> log.detail(tool + ": " + report.strip())));
            try {
                if (recoverer.recover(domains).isEmpty()) {
                    log.milestone("nothing to recover");
                }
                return ExitStatus.OK.code();
            } catch (BackupException e) {
                return e.status().code();  // already logged
            }
        } catch (HypervisorException e) {
            new BackupLog(out, verbose, syslog).error(e.getMessage());
            return ExitStatus.HYPERVISOR_UNREACHABLE.code();
        }
    }
}
