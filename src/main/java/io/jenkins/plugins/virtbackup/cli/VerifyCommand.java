package io.jenkins.plugins.virtbackup.cli;

import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.store.BackupVerifier;
import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code virt-backup verify DIR...}: re-reads backups against their manifests. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Re-read every file of each backup DIR and compare it with its manifest.json; "
                + "exit 7 on any missing or different file.")
final class VerifyCommand implements Callable<Integer> {
    @Option(names = {"-v", "--verbose"}, description = "Print every file checked.")
    boolean verbose;

    @Parameters(paramLabel = "DIR", arity = "1..*", description = "Backup directories (DIR/DOMAIN/STAMP).")
    List<Path> backups;

    private final PrintStream out;
    private final SyslogSink syslog;

    VerifyCommand(PrintStream out, SyslogSink syslog) {
        this.out = out;
        this.syslog = syslog;
    }

    @Override
    public Integer call() {
        ExitStatus worst = ExitStatus.OK;
        try (BackupLog log = new BackupLog(out, verbose, syslog)) {
            BackupVerifier verifier = new BackupVerifier(log, new LinuxFileExtents());
            for (Path backup : backups) {
                ExitStatus status = verifier.verify(backup);
                if (status != ExitStatus.OK) {
                    worst = status;
                }
            }
        }
        return worst.code();
    }
}
