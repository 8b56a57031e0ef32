package io.jenkins.plugins.virtbackup.cli;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.log.ToolErrorLog;
import io.jenkins.plugins.virtbackup.engine.restore.DomainRestore;
import io.jenkins.plugins.virtbackup.engine.restore.ImageFlattener;
import io.jenkins.plugins.virtbackup.engine.restore.LifeProof;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreRequest;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreResult;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreTest;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreTestRequest;
import io.jenkins.plugins.virtbackup.engine.restore.RestoredDomain;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.engine.store.BackupVerifier;
import io.jenkins.plugins.virtbackup.libvirt.LibvirtHypervisor;
import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import io.jenkins.plugins.virtbackup.libvirt.QemuImgConvert;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code virt-backup restore [--name NAME] [--disk-dir DIR] [--start] BACKUP_DIR} and
 * {@code virt-backup restore --test BACKUP_DIR}: a backup back to a domain, or the proof that it boots.
 */
@Command(name = "restore", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Restore a backup: verify it, write every disk as one standalone sparse image (an "
                + "incremental's chain flattened), define the domain and, with --start, resume it from the "
                + "backup's RAM or boot it. Without --name: the original (same name and UUID), disks back to "
                + "their paths. With --name: a copy beside it (new UUID and MAC addresses, disks named "
                + "NAME-TARGET.FORMAT). Never overwrites: an existing domain or file is exit 9, nothing changed.",
                "With --test: restore a transient clone without network into a scratch folder, boot it, wait "
                + "for proof of life (guest agent, else serial console, else still running), remove it; "
                + "exit 10 when it shows none."})
final class RestoreCommand implements Callable<Integer> {
    @Option(names = {"-c", "--connect"}, paramLabel = "URI", description = "Hypervisor URI.")
    String uri;

    @Option(names = "--name", paramLabel = "NAME",
            description = "Restore a copy under this name, with a new UUID and new MAC addresses.")
    String name;

    @Option(names = "--disk-dir", paramLabel = "DIR",
            description = "Where the disks go, as NAME-TARGET.FORMAT (default: their original paths; for --name, "
                    + "beside the originals). With --test: where the scratch folder goes (default: restore-test/ "
                    + "in the state directory).")
    Path diskDir;

    @Option(names = "--start",
            description = "Start the restored domain: from the backup's RAM (suspend and snapshot-libvirt backups, "
                    + "original identity only), else a boot.")
    boolean start;

    @Option(names = "--test", description = "Restore test: boot a temporary clone, wait for proof of life, remove it.")
    boolean test;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300",
            description = "--test: how long the clone has to show life (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--console-pattern", paramLabel = "REGEX",
            description = "--test: a console line matching REGEX is the proof of life (default: any line).")
    String consolePattern;

    @Option(names = "--proof", paramLabel = "PROOF",
            description = "--test: agent, console or running (default: the strongest the domain allows).")
    String proof;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "The state directory (default: $VIRT_BACKUP_STATE_DIR, else /var/lib/virt-backup).")
    Path stateDir;

    @Option(names = "--error-log", paramLabel = "FILE",
            description = "Where error reports of libvirt and qemu-img go (default: the backup root's "
                    + VirtBackupCommand.ERROR_LOG_NAME + ").")
    Path errorLog;

    @Option(names = {"-v", "--verbose"}, description = "Print every step.")
    boolean verbose;

    private ResultFile resultFile;

    @Option(names = "--result-file", paramLabel = "FILE",
            description = "After the run, write its outcome to FILE as JSON: status, backup, domain, uuid, disks, "
                    + "started, and for --test whether it passed, its proof and the seconds to life.")
    void resultFile(Path file) {
        resultFile = new ResultFile(file);
    }

    @Parameters(paramLabel = "BACKUP_DIR", arity = "1", description = "The backup directory (DIR/DOMAIN/STAMP).")
    Path backup;

    private final PrintStream out;
    private final SyslogSink syslog;
    private final boolean interactive;
    private final Consumer<VirtBackupCommand.StopAction> whenStopped;
    private ToolErrorLog errors;

    RestoreCommand(PrintStream out, SyslogSink syslog, boolean interactive,
                   Consumer<VirtBackupCommand.StopAction> whenStopped) {
        this.out = out;
        this.syslog = syslog;
        this.interactive = interactive;
        this.whenStopped = whenStopped;
    }

    @Override
    public Integer call() {
        RestoreResult result;
        try (BackupLog log = new BackupLog(out, verbose, interactive, syslog)) {
            try {
                checkUsage();
                result = test ? restoreTest(log) : restore(log);
            } catch (BackupException e) {
                log.error(e.getMessage());
                result = failed(e.status());
            } catch (HypervisorException e) {
                log.error(e.getMessage());
                result = failed(ExitStatus.HYPERVISOR_UNREACHABLE);
            }
            return written(result, log);
        }
    }

    private void checkUsage() throws BackupException {
        if (test && (name != null || start)) {
            throw new BackupException(ExitStatus.USAGE, "--test restores a temporary clone: --name and --start do "
                    + "not go with it");
        }
        if (timeoutSeconds <= 0) {
            throw new BackupException(ExitStatus.USAGE, "--timeout must be a positive number of seconds");
        }
        if (resultFile != null) {
            resultFile.checkWritable();
        }
    }

    private RestoreResult restore(BackupLog log) throws BackupException, HypervisorException {
        try (LibvirtHypervisor hypervisor = connect()) {
            DomainRestore restore = new DomainRestore(hypervisor, log, verifier(log), flattener());
            whenStopped.accept(restore::cancel);
            RestoredDomain domain = restore.restore(new RestoreRequest(backup, name, diskDir, start));
            Map<String, String> disks = new LinkedHashMap<>();
            domain.disks().forEach((target, path) -> disks.put(target, path.toString()));
            return new RestoreResult(ExitStatus.OK.code(), backupPath(), domain.name(), domain.uuid(), disks,
                    domain.started(), null);
        }
    }

    private RestoreResult restoreTest(BackupLog log) throws BackupException, HypervisorException {
        Pattern pattern = consolePattern();
        LifeProof asked = lifeProof();
        Path scratch = diskDir != null ? diskDir
                : VirtBackupCommand.stateDirectory(stateDir).root().resolve("restore-test");
        try (LibvirtHypervisor hypervisor = connect()) {
            RestoreTest restoreTest = new RestoreTest(hypervisor, log, verifier(log), flattener());
            whenStopped.accept(restoreTest::cancel);
            RestoreTest.Result tested = restoreTest.run(new RestoreTestRequest(backup, scratch,
                    Duration.ofSeconds(timeoutSeconds), pattern, asked));
            return new RestoreResult(tested.status().code(), backupPath(), tested.cloneName(), null, Map.of(), null,
                    tested.outcome());
        } catch (BackupException e) {
            if (e.status() != ExitStatus.VERIFY_FAILED) {
                throw e;
            }
            log.error(e.getMessage());
            return new RestoreResult(e.status().code(), backupPath(), null, null, Map.of(), null,
                    new RestoreResult.TestOutcome(false, null, null, e.getMessage()));
        }
    }

    private Pattern consolePattern() throws BackupException {
        try {
            return consolePattern == null ? null : Pattern.compile(consolePattern);
        } catch (PatternSyntaxException e) {
            throw new BackupException(ExitStatus.USAGE, "--console-pattern: " + e.getDescription());
        }
    }

    private LifeProof lifeProof() throws BackupException {
        if (proof == null) {
            return null;
        }
        return Arrays.stream(LifeProof.values()).filter(p -> p.cliName().equals(proof)).findFirst()
                .orElseThrow(() -> new BackupException(ExitStatus.USAGE, "unknown --proof '" + proof
                        + "'; the proofs are: agent, console, running"));
    }

    private LibvirtHypervisor connect() throws HypervisorException {
        return LibvirtHypervisor.connect(uri, report -> errorLog().append("libvirt", report));
    }

    private BackupVerifier verifier(BackupLog log) {
        return new BackupVerifier(log, new LinuxFileExtents());
    }

    private ImageFlattener flattener() {
        return new QemuImgConvert(BackupDirectory.FILE_MODE, errorLog()::append);
    }

    /** {@code --error-log}, else the error log of the backup root the backup is in. */
    private synchronized ToolErrorLog errorLog() {
        if (errors == null) {
            Path domainFolder = backup.toAbsolutePath().normalize().getParent();
            Path root = domainFolder == null || domainFolder.getParent() == null
                    ? VirtBackupCommand.stateDirectory(stateDir).root() : domainFolder.getParent();
            errors = new ToolErrorLog(errorLog != null ? errorLog : root.resolve(VirtBackupCommand.ERROR_LOG_NAME));
        }
        return errors;
    }

    private RestoreResult failed(ExitStatus status) {
        return new RestoreResult(status.code(), backupPath(), null, null, Map.of(), null, null);
    }

    private String backupPath() {
        return backup.toAbsolutePath().normalize().toString();
    }

    private int written(RestoreResult result, BackupLog log) {
        if (resultFile != null) {
            try {
                resultFile.write(result.toJson());
            } catch (IOException e) {
                log.error(resultFile.describe(e));
                return result.status() == ExitStatus.OK.code() ? ExitStatus.BACKUP_FAILED.code() : result.status();
            }
        }
        return result.status();
    }
}
