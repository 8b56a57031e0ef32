package io.jenkins.plugins.virtbackup.cli;

import io.jenkins.plugins.virtbackup.engine.BackupEngine;
import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.BackupRequest;
import io.jenkins.plugins.virtbackup.engine.CompletedBackup;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.Hypervisor;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.RunResult;
import io.jenkins.plugins.virtbackup.engine.ToolVersion;
import io.jenkins.plugins.virtbackup.engine.batch.BatchResult;
import io.jenkins.plugins.virtbackup.engine.batch.ExcludePatterns;
import io.jenkins.plugins.virtbackup.engine.copy.Sizes;
import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.log.ToolErrorLog;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.retention.PruneRun;
import io.jenkins.plugins.virtbackup.engine.retention.RetentionPolicy;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.libvirt.LibvirtHypervisor;
import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import io.jenkins.plugins.virtbackup.libvirt.NativeSyslog;
import io.jenkins.plugins.virtbackup.libvirt.QemuNbdWriter;
import io.jenkins.plugins.virtbackup.lvm.LvmCommands;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code virt-backup [options] DOMAIN [BLKDEV...]} and {@code virt-backup [options] --all}: the command
 * line over the engine.
 */
@Command(name = "virt-backup", sortOptions = false, usageHelpAutoWidth = true,
        description = "Back up a libvirt domain: its definition, its disks and, in suspend and snapshot-libvirt "
                + "mode, its RAM state. With --all instead of DOMAIN: every domain of the hypervisor.%n"
                + "Also: virt-backup restore [--name NAME] [--disk-dir DIR] [--start] BACKUP_DIR, "
                + "virt-backup restore --test BACKUP_DIR, virt-backup prune [--keep-* N]... DOMAIN..., "
                + "virt-backup recover [DOMAIN...], virt-backup verify DIR... "
                + "Run with -m for the whole manual.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:every requested file was written and synced (and read back, with --verify)",
            "1:backup failed; the domain was left as it was found",
            "2:usage error",
            "3:domain or disk not found",
            "4:hypervisor unreachable",
            "5:the domain could NOT be put back as it was found",
            "6:another run holds the domain's lock",
            "7:verify: a file is missing or differs from the manifest",
            "8:--level inc or diff: the chain cannot be extended; nothing was written",
            "9:restore: that domain or a destination file exists; nothing was changed",
            "10:restore --test: the restored clone showed no life"})
public final class VirtBackupCommand implements Callable<Integer> {
    static final Path DEFAULT_BACKUP_ROOT = Path.of("/var/backups/virt-backup");
    static final String ERROR_LOG_NAME = "virt-backup-errors.log";
    /** The state directory when {@code --state-dir} is not given (a Jenkins agent's environment, say). */
    static final String STATE_DIR_ENV = "VIRT_BACKUP_STATE_DIR";
    /**
     * How long a stopped run may take to clean up before the JVM goes. Jenkins never follows its
     * SIGTERM with SIGKILL (the plugin's supervisor waits for the engine); systemd does after 90 s.
     * snapshot-dm's unmounts and lvremoves take seconds each on a busy host: left undone, they slow
     * the origins' writes until someone runs recover. A cleanup that ends sooner ends the wait.
     */
    private static final long SIGNAL_GRACE_SECONDS = 60;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show usage and exit.")
    boolean help;

    @Option(names = {"-m", "--manual"}, description = "Show the manual page and exit.")
    boolean manual;

    @Option(names = {"-V", "--version"}, versionHelp = true, description = "Show the version and exit.")
    boolean version;

    @Option(names = {"-c", "--connect"}, paramLabel = "URI",
            description = "Hypervisor URI, e.g. qemu:///system (default: libvirt's default, which honours "
                    + "LIBVIRT_DEFAULT_URI).")
    String uri;

    @Option(names = {"-b", "--mode"}, paramLabel = "MODE", defaultValue = "suspend",
            description = "shutdown, suspend, snapshot-libvirt, live or snapshot-dm (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = {"-l", "--level"}, paramLabel = "LEVEL", defaultValue = "full",
            description = "full, inc (what changed since the chain's newest backup), diff (what changed since the "
                    + "chain's full backup) or auto (full when there is no usable chain, else inc) "
                    + "(default: ${DEFAULT-VALUE}). Levels other than full apply to live mode: inc and diff in "
                    + "another mode are a usage error, auto means full there.")
    String level;

    @Option(names = {"-d", "--dir"}, paramLabel = "DIR",
            description = "Backup root; each backup goes to DIR/DOMAIN/YYYYMMDDTHHMMSSZ "
                    + "(default: /var/backups/virt-backup).")
    Path backupRoot;

    @Option(names = "--error-log", paramLabel = "FILE",
            description = "Where error reports of libvirt and external tools go (default: DIR/" + ERROR_LOG_NAME + ").")
    Path errorLog;

    @Option(names = "--shutdown-timeout", paramLabel = "SECONDS", defaultValue = "300",
            description = "How long shutdown mode waits for the guest to power off (default: ${DEFAULT-VALUE}).")
    long shutdownTimeoutSeconds;

    @Option(names = "--force-off",
            description = "In shutdown mode, force the domain off when the timeout passes instead of failing.")
    boolean forceOff;

    @Option(names = "--quiesce",
            description = "In the live modes, freeze the guest's file systems through its agent while the "
                    + "point in time is taken.")
    boolean quiesce;

    @Option(names = "--verify",
            description = "Read every written chunk back from disk and check it before the backup gets its final "
                    + "name. Off by default: like other backup tools, a run writes, fsyncs each file and the "
                    + "directory, then renames; 'virt-backup verify DIR' is the scheduled check.")
    boolean verify;

    @Option(names = "--compress",
            description = "Write every disk image as a qcow2 whose data clusters are zstd-compressed, which QEMU "
                    + "reads directly: restoring and booting need no unpacking. In every mode and level; the RAM "
                    + "state and the definition stay as they are.")
    boolean compress;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where domain locks and recovery journals live (default: $VIRT_BACKUP_STATE_DIR, "
                    + "else /var/lib/virt-backup).")
    Path stateDir;

    @Option(names = "--overlay-dir", paramLabel = "DIR",
            description = "Where snapshot-libvirt puts its temporary overlays (default: overlays/ in the state "
                    + "directory).")
    Path overlayDir;

    @Option(names = "--snapshot-size", paramLabel = "SIZE",
            description = "In snapshot-dm mode, the room of each LVM snapshot for what the guest writes during the "
                    + "copy, e.g. 2G (default: the volume's size, or an equal share of its volume group's free space "
                    + "when that is less). A snapshot that overflows fails the backup.")
    String snapshotSize;

    @Option(names = {"-v", "--verbose"}, description = "Print every step, not only start, end and problems.")
    boolean verbose;

    /** With any --keep option, a successful backup prunes the domain's backups (see virt-backup prune). */
    @Mixin
    RetentionOptions retention;

    private ResultFile resultFile;

    @Option(names = "--result-file", paramLabel = "FILE",
            description = "After the run, write its exit status, the complete backup's directory (or null), the "
                    + "domain, the backup's level and its parent backup's directory (or null) to FILE as JSON, for "
                    + "scripts and the Jenkins plugin.")
    void resultFile(Path file) {
        resultFile = new ResultFile(file);
    }

    @Option(names = "--all",
            description = "Back up every domain of the hypervisor (running, paused, shut off; transient ones too) "
                    + "instead of one DOMAIN, each with its own lock, backup directory and log; one domain's failure "
                    + "does not stop the others. Ends with a summary table; the exit code is the worst of the "
                    + "domains' (5, 4, 1, 7, 10, 8, 9, 6, 3, 2, 0, worst first).")
    boolean all;

    @Option(names = "--exclude", paramLabel = "PATTERN",
            description = "With --all: leave out the domains whose whole name matches PATTERN, a shell-style "
                    + "pattern (* any characters, ? one character, case-sensitive). Repeatable.")
    List<String> excludes = new ArrayList<>();

    @Option(names = "--parallel", paramLabel = "N",
            description = "With --all: back up N domains at once (default: 1); each console line then starts with "
                    + "[DOMAIN].")
    Integer parallel;

    @Parameters(index = "0", paramLabel = "DOMAIN", arity = "0..1", description = "The domain to back up.")
    String domain;

    @Parameters(index = "1..*", paramLabel = "BLKDEV",
            description = "Back up only these disks, by target (vda) or source path.")
    List<String> disks = new ArrayList<>();

    private final PrintStream out;
    private final SyslogSink syslog;
    /** Standard output is a terminal: progress is redrawn in place. */
    private final boolean interactive;
    private final CountDownLatch finished = new CountDownLatch(1);
    /**
     * What SIGTERM and SIGINT stop: the backup (with {@code --all}, every domain's being backed up),
     * or the restore of the subcommand that runs.
     */
    private volatile StopAction stopAction;

    /** Stops the run in progress: puts a domain (or every domain being backed up) back, or undoes a restore. */
    @FunctionalInterface
    interface StopAction {
        void stop() throws BackupException;
    }

    VirtBackupCommand(PrintStream out, SyslogSink syslog) {
        this(out, syslog, false);
    }

    VirtBackupCommand(PrintStream out, SyslogSink syslog, boolean interactive) {
        this.out = out;
        this.syslog = syslog;
        this.interactive = interactive;
    }

    public static void main(String[] args) {
        VirtBackupCommand command = new VirtBackupCommand(System.out, NativeSyslog.forThisProcess(),
                System.console() != null);
        Runtime.getRuntime().addShutdownHook(new Thread(command::onSignal, "virt-backup-signal"));
        int code = execute(command, args, System.err);
        command.finished.countDown();
        System.exit(code);
    }

    /** Parses {@code args} and runs; returns the exit code. Usage errors go to {@code err}. */
    static int execute(VirtBackupCommand command, String[] args, PrintStream err) {
        CommandLine commandLine = new CommandLine(command)
                .addSubcommand("recover", new RecoverCommand(command.out, command.syslog))
                .addSubcommand("verify", new VerifyCommand(command.out, command.syslog))
                .addSubcommand("prune", new PruneCommand(command.out, command.syslog))
                .addSubcommand("restore", new RestoreCommand(command.out, command.syslog, command.interactive,
                        command::whenStopped))
                .setOut(new PrintWriter(command.out, true, StandardCharsets.UTF_8))
                .setErr(new PrintWriter(err, true, StandardCharsets.UTF_8))
                .setCaseInsensitiveEnumValuesAllowed(false);
        commandLine.getCommandSpec().version("virt-backup " + ToolVersion.get());
        return commandLine.execute(args);
    }

    @Override
    public Integer call() {
        if (manual) {
            out.print(ManualPage.text());
            return ExitStatus.OK.code();
        }
        if (resultFile != null) {
            try {
                resultFile.checkWritable();
            } catch (BackupException e) {
                new BackupLog(out, verbose, syslog).error(e.getMessage());
                return e.status().code();
            }
        }
        if (all) {
            return backUpAll();
        }
        Outcome outcome;
        try {
            BackupRequest request = request();
            Path errorLogFile = errorLog != null ? errorLog : request.backupRoot().resolve(ERROR_LOG_NAME);
            outcome = backUp(request, new ToolErrorLog(errorLogFile));
        } catch (BackupException e) {
            new BackupLog(out, verbose, syslog).error(e.getMessage());
            outcome = new Outcome(e.status(), null);
        }
        return writeResult(outcome);
    }

    /** How a run ended: its status and, when it completed one, the backup. */
    private record Outcome(ExitStatus status, CompletedBackup backup) {
    }

    private Outcome backUp(BackupRequest request, ToolErrorLog errors) {
        try (BackupLog log = new BackupLog(out, verbose, interactive, syslog)) {
            try (LibvirtHypervisor hypervisor = LibvirtHypervisor.connect(uri, r -> errors.append("libvirt", r))) {
                log.detail("connected to " + hypervisor.uri());
                BackupEngine engine = new BackupEngine(hypervisor, log, stateDirectory(stateDir),
                        new LinuxFileExtents(), new QemuNbdWriter(BackupDirectory.FILE_MODE, errors::append),
                        new LvmCommands(errors::append));
                whenStopped(engine::cancel);
                return pruned(engine.run(request), log);
            } catch (HypervisorException e) {
                log.error(e.getMessage());
                return new Outcome(ExitStatus.HYPERVISOR_UNREACHABLE, null);
            } catch (BackupException e) {
                // The engine has logged it; point at the details when there are any.
                if (Files.exists(errors.file())) {
                    log.detail("error reports of libvirt and external tools are in " + errors.file());
                }
                return new Outcome(e.status(), null);
            }
        }
    }

    /**
     * With --keep options, prunes the domain's backups once its new backup is complete. A prune that
     * fails gives the run its exit status; the backup stays complete, and the result names it.
     */
    private Outcome pruned(CompletedBackup backup, BackupLog log) throws BackupException {
        try {
            new PruneRun(log, stateDirectory(stateDir), ZoneId.systemDefault()).pruneAfter(backup, retention.policy());
            return new Outcome(ExitStatus.OK, backup);
        } catch (BackupException e) {
            log.error(e.getMessage());
            return new Outcome(e.status(), backup);
        }
    }

    /** {@code --all}: every domain but the excluded ones; the result file holds one result per domain. */
    private int backUpAll() {
        BatchResult result;
        try {
            BackupRequest request = request();
            Path errorLogFile = errorLog != null ? errorLog : request.backupRoot().resolve(ERROR_LOG_NAME);
            result = new AllDomainsBackup(out, verbose, interactive, syslog, stateDirectory(stateDir),
                    parallel == null ? 1 : parallel, new ExcludePatterns(excludes), retention.policy(),
                    this::whenStopped)
                    .run(uri, request, new ToolErrorLog(errorLogFile));
        } catch (BackupException e) {
            new BackupLog(out, verbose, syslog).error(e.getMessage());
            result = BatchResult.withoutDomains(e.status().code());
        }
        if (resultFile == null) {
            return result.status();
        }
        try {
            resultFile.write(result.toJson());
            return result.status();
        } catch (IOException e) {
            new BackupLog(out, verbose, syslog).error(resultFile.describe(e));
            return result.status() == ExitStatus.OK.code() ? ExitStatus.BACKUP_FAILED.code() : result.status();
        }
    }

    /** Writes {@code --result-file}, when asked for; returns the run's exit code. */
    private int writeResult(Outcome outcome) {
        if (resultFile == null) {
            return outcome.status().code();
        }
        try {
            int status = outcome.status().code();
            resultFile.write((outcome.backup() == null ? RunResult.withoutBackup(status, domain)
                    : RunResult.of(status, outcome.backup(), domain)).toJson());
            return outcome.status().code();
        } catch (IOException e) {
            new BackupLog(out, verbose, syslog).error(resultFile.describe(e)
                    + (outcome.backup() != null ? "; the backup is complete, in " + outcome.backup().directory() : ""));
            return outcome.status() == ExitStatus.OK ? ExitStatus.BACKUP_FAILED.code() : outcome.status().code();
        }
    }

    /** {@code --state-dir}, else {@value #STATE_DIR_ENV}, else /var/lib/virt-backup. */
    static StateDirectory stateDirectory(Path option) {
        if (option != null) {
            return new StateDirectory(option);
        }
        String fromEnvironment = System.getenv(STATE_DIR_ENV);
        return new StateDirectory(fromEnvironment == null || fromEnvironment.isEmpty()
                ? StateDirectory.DEFAULT : Path.of(fromEnvironment));
    }

    /** What the parsed options ask the engine for. */
    BackupRequest request() throws BackupException {
        checkDomainsGiven();
        BackupMode backupMode = BackupMode.fromCliName(mode).orElseThrow(() -> new BackupException(ExitStatus.USAGE,
                "unknown mode '" + mode + "'; the modes are: " + BackupMode.allCliNames()));
        BackupLevel backupLevel = BackupLevel.fromCliName(level).orElseThrow(() -> new BackupException(
                ExitStatus.USAGE, "unknown level '" + level + "'; the levels are: " + BackupLevel.allCliNames()));
        retention.policy();  // a bad --keep count is a usage error before anything is touched
        if (shutdownTimeoutSeconds <= 0) {
            throw new BackupException(ExitStatus.USAGE, "--shutdown-timeout must be a positive number of seconds");
        }
        if (backupMode == BackupMode.SNAPSHOT_DM && parallel != null && parallel > 1) {
            // Each run sizes its snapshots from the same free space: side by side, the later ones would
            // find it taken, after their domains were saved.
            throw new BackupException(ExitStatus.USAGE, "snapshot-dm backs up one domain at a time: its snapshots "
                    + "share the volume groups' free space; leave out --parallel");
        }
        return new BackupRequest(domain, disks, backupMode, backupRoot != null ? backupRoot : DEFAULT_BACKUP_ROOT,
                Duration.ofSeconds(shutdownTimeoutSeconds), forceOff, quiesce, overlayDir, verify, backupLevel, compress,
                snapshotBytes(backupMode));
    }

    /** {@code --snapshot-size} in bytes, 0 when not given; only snapshot-dm takes snapshots. */
    private long snapshotBytes(BackupMode backupMode) throws BackupException {
        if (snapshotSize == null) {
            return 0;
        }
        if (backupMode != BackupMode.SNAPSHOT_DM) {
            throw new BackupException(ExitStatus.USAGE, "--snapshot-size applies to mode snapshot-dm only (mode is "
                    + backupMode + ")");
        }
        try {
            long bytes = Sizes.parse(snapshotSize);
            if (bytes <= 0) {
                throw new IllegalArgumentException("it must be more than 0");
            }
            return bytes;
        } catch (IllegalArgumentException e) {
            throw new BackupException(ExitStatus.USAGE, "--snapshot-size: " + e.getMessage());
        }
    }

    /** Either one DOMAIN (and its BLKDEVs) or {@code --all}; {@code --exclude} and {@code --parallel} go with the latter. */
    private void checkDomainsGiven() throws BackupException {
        if (all) {
            if (domain != null) {
                throw new BackupException(ExitStatus.USAGE, "--all backs up every domain: give no DOMAIN or BLKDEV "
                        + "with it (--exclude PATTERN leaves domains out)");
            }
            if (parallel != null && parallel < 1) {
                throw new BackupException(ExitStatus.USAGE, "--parallel must be at least 1");
            }
            return;
        }
        if (!excludes.isEmpty() || parallel != null) {
            throw new BackupException(ExitStatus.USAGE, "--exclude and --parallel go with --all only");
        }
        if (domain == null) {
            throw new BackupException(ExitStatus.USAGE, "no DOMAIN given (see virt-backup -h)");
        }
    }

    void whenStopped(StopAction action) {
        stopAction = action;
    }

    /**
     * Runs on SIGTERM and SIGINT (and on every exit): puts the domain back at once (or stops a
     * restore), then gives the main thread a few seconds to clean up before the JVM goes.
     */
    private void onSignal() {
        StopAction action = stopAction;
        if (finished.getCount() == 0 || action == null) {
            return;
        }
        try {
            action.stop();
        } catch (BackupException e) {
            // cancel() logged nothing itself: this is the one report of it.
            new BackupLog(out, verbose, syslog).critical(e.getMessage());
        }
        try {
            finished.await(SIGNAL_GRACE_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
