package io.jenkins.plugins.virtbackup.jenkins;

import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * What one backup step asks for, as plain values: the freestyle builder and the pipeline step both
 * turn their fields into this, and it alone decides the engine's command line. Strings, a list and
 * primitives only, so it can be logged, compared and serialized without any Jenkins object.
 */
public final class BackupOptions implements EngineTask {
    private static final long serialVersionUID = 1L;

    /** The engine's own default mode; written out explicitly so the build log shows it. */
    public static final String DEFAULT_MODE = BackupMode.SUSPEND.cliName();
    /** The engine's default level; written out explicitly, like the mode. */
    public static final String DEFAULT_LEVEL = BackupLevel.FULL.cliName();
    /** The engine's default backup root; passed explicitly so the step knows where to look. */
    public static final String DEFAULT_BACKUP_DIR = "/var/backups/virt-backup";
    /** The engine's default for {@code --shutdown-timeout}. */
    public static final int DEFAULT_SHUTDOWN_TIMEOUT = 300;

    private final String domain;
    private final String uri;
    private final List<String> disks;
    private final String mode;
    private final String level;
    private final String backupDir;
    private final int shutdownTimeout;
    private final boolean forceOff;
    private final boolean verify;
    private final boolean compress;
    private final boolean verbose;

    /**
     * @param uri       null for libvirt's default (which honours {@code LIBVIRT_DEFAULT_URI})
     * @param disks     empty for every disk the engine can copy
     * @param mode      null for {@link #DEFAULT_MODE}
     * @param level     null for {@link #DEFAULT_LEVEL}
     * @param backupDir null for {@link #DEFAULT_BACKUP_DIR}
     * @param verify    read every written chunk back before the backup counts ({@code --verify})
     * @param compress  write the disks as qcow2 with zstd-compressed clusters ({@code --compress})
     */
    public BackupOptions(String domain, String uri, List<String> disks, String mode, String level, String backupDir,
                         int shutdownTimeout, boolean forceOff, boolean verify, boolean compress, boolean verbose) {
        this.domain = Fields.trimToNull(domain);
        this.uri = Fields.trimToNull(uri);
        this.disks = new ArrayList<>(Fields.diskNames(disks));
        this.mode = Fields.trimToNull(mode) == null ? DEFAULT_MODE : mode.trim();
        this.level = Fields.trimToNull(level) == null ? DEFAULT_LEVEL : level.trim();
        String dir = Fields.trimToNull(backupDir);
        this.backupDir = dir == null ? DEFAULT_BACKUP_DIR : Fields.unixPath(dir);
        this.shutdownTimeout = shutdownTimeout;
        this.forceOff = forceOff;
        this.verify = verify;
        this.compress = compress;
        this.verbose = verbose;
    }

    /** Options of an uncompressed backup. */
    public BackupOptions(String domain, String uri, List<String> disks, String mode, String level, String backupDir,
                         int shutdownTimeout, boolean forceOff, boolean verify, boolean verbose) {
        this(domain, uri, disks, mode, level, backupDir, shutdownTimeout, forceOff, verify, false, verbose);
    }

    public String domain() {
        return domain;
    }

    @Override
    public Kind kind() {
        return Kind.BACKUP;
    }

    @Override
    public String subject() {
        return domain;
    }

    public String backupDir() {
        return backupDir;
    }

    /** Where this domain's backups go: {@code DIR/DOMAIN}. */
    public String domainDir() {
        return backupDir.equals("/") ? "/" + domain : backupDir + "/" + domain;
    }

    /** Every text field passed through {@code expander} (the freestyle builder expands build variables). */
    public BackupOptions expand(UnaryOperator<String> expander) {
        List<String> expandedDisks = new ArrayList<>();
        for (String disk : disks) {
            expandedDisks.add(expander.apply(disk));
        }
        return new BackupOptions(expand(expander, domain), expand(expander, uri), expandedDisks,
                expand(expander, mode), expand(expander, level), expand(expander, backupDir), shutdownTimeout,
                forceOff, verify, compress, verbose);
    }

    private static String expand(UnaryOperator<String> expander, String value) {
        return value == null ? null : expander.apply(value);
    }

    /** Everything wrong with these options, one message each; empty when the engine may be started. */
    @Override
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        Fields.addIfPresent(problems, Fields.domainProblem(domain));
        Fields.addIfPresent(problems, Fields.uriProblem(uri));
        for (String disk : disks) {
            Fields.addIfPresent(problems, Fields.diskProblem(disk));
        }
        Fields.addIfPresent(problems, Fields.modeProblem(mode));
        Fields.addIfPresent(problems, Fields.levelProblem(level));
        Fields.addIfPresent(problems, Fields.backupDirProblem(backupDir));
        Fields.addIfPresent(problems, Fields.shutdownTimeoutProblem(shutdownTimeout));
        return problems;
    }

    /**
     * The engine's arguments (what follows {@code java -jar virt-backup-cli.jar}). Options first, then
     * {@code --} so that a domain or disk name starting with a dash is never read as an option.
     */
    public List<String> cliArguments() {
        return cliArguments(null);
    }

    /**
     * The same, with {@code --result-file} first, where the engine tells the step how the run ended.
     *
     * @param resultFile a path on the node; null for none
     */
    @Override
    public List<String> cliArguments(String resultFile) {
        List<String> args = new ArrayList<>();
        if (resultFile != null) {
            args.add("--result-file");
            args.add(resultFile);
        }
        if (uri != null) {
            args.add("--connect");
            args.add(uri);
        }
        args.add("--mode");
        args.add(mode);
        args.add("--level");
        args.add(level);
        args.add("--dir");
        args.add(backupDir);
        args.add("--shutdown-timeout");
        args.add(Integer.toString(shutdownTimeout));
        if (forceOff) {
            args.add("--force-off");
        }
        if (verify) {
            args.add("--verify");
        }
        if (compress) {
            args.add("--compress");
        }
        if (verbose) {
            args.add("--verbose");
        }
        args.add("--");
        args.add(domain);
        args.addAll(disks);
        return args;
    }

    @Override
    public String toString() {
        return String.join(" ", cliArguments());
    }
}
