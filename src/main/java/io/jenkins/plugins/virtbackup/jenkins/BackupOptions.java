package io.jenkins.plugins.virtbackup.jenkins;

import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * What one backup step asks for, as plain values: the freestyle builder and the pipeline step both
 * turn their fields into this, and it alone decides the engine's command line. Strings, lists and
 * primitives only, so it can be logged, compared and serialized without any Jenkins object.
 *
 * <p>A step backs up one {@code domain}, or a list of {@code domains} (one engine run each, in
 * order), or every domain ({@code allDomains}: one engine run with {@code --all}, {@code --exclude}
 * and {@code --parallel}).
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
    private final List<String> domains;
    private final boolean allDomains;
    private final List<String> excludes;
    private final int parallel;
    private final boolean unstableOnFailure;
    /** The {@code --keep-*} arguments: prune the domain's backups after each successful backup. */
    private final List<String> keep;
    /** {@code --quiesce}: freeze the guest's file systems for the point in time (the live modes). */
    private final boolean quiesce;
    /** {@code --snapshot-size} as written ({@code 2G}): each LVM snapshot's room; null for the engine's default. */
    private final String snapshotSize;
    /** {@code --overlay-dir}, {@code --state-dir}, {@code --error-log}: null for the engine's defaults. */
    private final String overlayDir;
    private final String stateDir;
    private final String errorLog;

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
        this(domain, uri, disks, mode, level, backupDir, shutdownTimeout, forceOff, verify, compress, verbose,
                List.of(), false, List.of(), 1, false);
    }

    /** Options of an uncompressed backup. */
    public BackupOptions(String domain, String uri, List<String> disks, String mode, String level, String backupDir,
                         int shutdownTimeout, boolean forceOff, boolean verify, boolean verbose) {
        this(domain, uri, disks, mode, level, backupDir, shutdownTimeout, forceOff, verify, false, verbose);
    }

    private BackupOptions(String domain, String uri, List<String> disks, String mode, String level, String backupDir,
                          int shutdownTimeout, boolean forceOff, boolean verify, boolean compress, boolean verbose,
                          List<String> domains, boolean allDomains, List<String> excludes, int parallel,
                          boolean unstableOnFailure) {
        this.domains = new ArrayList<>(Fields.diskNames(domains));
        this.allDomains = allDomains;
        this.excludes = new ArrayList<>(Fields.diskNames(excludes));
        this.parallel = parallel;
        this.unstableOnFailure = unstableOnFailure;
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
        this.keep = new ArrayList<>();
        this.quiesce = false;
        this.snapshotSize = null;
        this.overlayDir = null;
        this.stateDir = null;
        this.errorLog = null;
    }

    /** {@code base} with {@code keep} for its {@code --keep-*} arguments. */
    private BackupOptions(BackupOptions base, List<String> keep) {
        this(base, keep, base.quiesce, base.snapshotSize, base.overlayDir, base.stateDir, base.errorLog);
    }

    /** {@code base} with these retention arguments, quiesce, snapshot size and places on the node. */
    private BackupOptions(BackupOptions base, List<String> keep, boolean quiesce, String snapshotSize,
                          String overlayDir, String stateDir, String errorLog) {
        this.domain = base.domain;
        this.uri = base.uri;
        this.disks = base.disks;
        this.mode = base.mode;
        this.level = base.level;
        this.backupDir = base.backupDir;
        this.shutdownTimeout = base.shutdownTimeout;
        this.forceOff = base.forceOff;
        this.verify = base.verify;
        this.compress = base.compress;
        this.verbose = base.verbose;
        this.domains = base.domains;
        this.allDomains = base.allDomains;
        this.excludes = base.excludes;
        this.parallel = base.parallel;
        this.unstableOnFailure = base.unstableOnFailure;
        this.keep = new ArrayList<>(keep);
        this.quiesce = quiesce;
        this.snapshotSize = Fields.trimToNull(snapshotSize);
        this.overlayDir = Fields.trimmedPath(overlayDir);
        this.stateDir = Fields.trimmedPath(stateDir);
        this.errorLog = Fields.trimmedPath(errorLog);
    }

    /**
     * The same options with a retention: after each successful backup the domain's backups are
     * pruned ({@code --keep-*}).
     *
     * @param retention null for none
     */
    public BackupOptions withRetention(BackupRetention retention) {
        return new BackupOptions(this, retention == null ? List.of() : retention.cliArguments());
    }

    /**
     * The same options with the guest's file systems frozen for the point in time ({@code --quiesce});
     * the engine does so in the live modes, for a running domain with a guest agent, and ignores it
     * elsewhere with a notice.
     */
    public BackupOptions withQuiesce(boolean freeze) {
        return new BackupOptions(this, keep, freeze, snapshotSize, overlayDir, stateDir, errorLog);
    }

    /**
     * The same options with the room of each LVM snapshot in snapshot-dm mode ({@code --snapshot-size}).
     *
     * @param size as an admin writes it ({@code 2G}, {@code 512M}; a plain number is bytes); null or
     *             empty for the engine's default: the volume's own size, or an equal share of its volume
     *             group's free space when that is less. Other modes take no snapshot: there it is left
     *             off the command line, which the engine would refuse it on.
     */
    public BackupOptions withSnapshotSize(String size) {
        return new BackupOptions(this, keep, quiesce, size, overlayDir, stateDir, errorLog);
    }

    /**
     * The same options with the engine's places on the node other than the backup root.
     *
     * @param overlays where snapshot-libvirt puts its temporary overlays ({@code --overlay-dir}); null
     *                 for {@code overlays/} in the state directory
     * @param state    the engine's locks and recovery journals ({@code --state-dir}); null for
     *                 {@code $VIRT_BACKUP_STATE_DIR} on the node, else {@code /var/lib/virt-backup}
     * @param errors   the file of libvirt's and the tools' error reports ({@code --error-log}); null for
     *                 {@code virt-backup-errors.log} in the backup root
     */
    public BackupOptions withNodePaths(String overlays, String state, String errors) {
        return new BackupOptions(this, keep, quiesce, snapshotSize, overlays, state, errors);
    }

    /**
     * The same options for several domains, or all.
     *
     * @param several           domain names, split at blanks and commas like disks; empty for none
     * @param all               every domain of the hypervisor ({@code --all})
     * @param exclude           with {@code all}: shell-style patterns of names to leave out
     * @param atOnce            with {@code all}: how many domains at once ({@code --parallel})
     * @param unstableWhenSome  a domain that fails makes the build UNSTABLE, not FAILURE
     */
    public BackupOptions withDomains(List<String> several, boolean all, List<String> exclude, int atOnce,
                                     boolean unstableWhenSome) {
        return carryingOver(new BackupOptions(domain, uri, disks, mode, level, backupDir, shutdownTimeout,
                forceOff, verify, compress, verbose, several, all, exclude, atOnce, unstableWhenSome));
    }

    /**
     * Options saved with a pipeline by a version before several domains have no lists and a
     * parallel of 0: they were options of one domain.
     */
    private Object readResolve() {
        if (domains == null || excludes == null || parallel == 0) {
            return new BackupOptions(domain, uri, disks, mode, level, backupDir, shutdownTimeout, forceOff, verify,
                    compress, verbose);
        }
        if (keep == null) {
            return new BackupOptions(this, List.of());  // saved by a version before retention
        }
        return this;
    }

    /** The options of one domain of a list: what a single-domain step with these fields would run. */
    public BackupOptions forDomain(String name) {
        return carryingOver(new BackupOptions(name, uri, List.of(), mode, level, backupDir, shutdownTimeout,
                forceOff, verify, compress, verbose));
    }

    /** {@code fresh} with this one's retention, quiesce, snapshot size and places on the node. */
    private BackupOptions carryingOver(BackupOptions fresh) {
        return new BackupOptions(fresh, keep, quiesce, snapshotSize, overlayDir, stateDir, errorLog);
    }

    public String domain() {
        return domain;
    }

    public List<String> domains() {
        return List.copyOf(domains);
    }

    public boolean allDomains() {
        return allDomains;
    }

    /** A list of domains or all of them: the step returns a result per domain. */
    public boolean isMany() {
        return allDomains || !domains.isEmpty();
    }

    public boolean unstableOnFailure() {
        return unstableOnFailure;
    }

    @Override
    public Kind kind() {
        return allDomains ? Kind.BACKUP_ALL : Kind.BACKUP;
    }

    @Override
    public String subject() {
        if (allDomains) {
            return excludes.isEmpty() ? "" : Messages.EngineTask_allExcept(String.join(", ", excludes));
        }
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
        return new BackupOptions(new BackupOptions(expand(expander, domain), expand(expander, uri), expandedDisks,
                expand(expander, mode), expand(expander, level), expand(expander, backupDir), shutdownTimeout,
                forceOff, verify, compress, verbose, expandEach(expander, domains), allDomains,
                expandEach(expander, excludes), parallel, unstableOnFailure), keep, quiesce,
                expand(expander, snapshotSize), expand(expander, overlayDir), expand(expander, stateDir),
                expand(expander, errorLog));
    }

    private static List<String> expandEach(UnaryOperator<String> expander, List<String> values) {
        List<String> expanded = new ArrayList<>();
        for (String value : values) {
            expanded.add(expander.apply(value));
        }
        return expanded;
    }

    private static String expand(UnaryOperator<String> expander, String value) {
        return value == null ? null : expander.apply(value);
    }

    /** Everything wrong with these options, one message each; empty when the engine may be started. */
    @Override
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (!isMany()) {
            Fields.addIfPresent(problems, Fields.domainProblem(domain));
        }
        Fields.addIfPresent(problems, Fields.domainChoiceProblem(domain, domains, allDomains));
        for (String name : domains) {
            Fields.addIfPresent(problems, Fields.domainProblem(name));
        }
        Fields.addIfPresent(problems, Fields.manyDomainsProblem(disks, allDomains, excludes, parallel,
                isMany(), unstableOnFailure));
        for (String exclude : excludes) {
            Fields.addIfPresent(problems, Fields.excludeProblem(exclude));
        }
        Fields.addIfPresent(problems, Fields.uriProblem(uri));
        for (String disk : disks) {
            Fields.addIfPresent(problems, Fields.diskProblem(disk));
        }
        Fields.addIfPresent(problems, Fields.modeProblem(mode));
        Fields.addIfPresent(problems, Fields.levelProblem(level));
        Fields.addIfPresent(problems, Fields.backupDirProblem(backupDir));
        Fields.addIfPresent(problems, Fields.shutdownTimeoutProblem(shutdownTimeout));
        Fields.addIfPresent(problems, Fields.snapshotSizeProblem(snapshotSize));
        Fields.addIfPresent(problems, Fields.overlayDirProblem(overlayDir));
        Fields.addIfPresent(problems, Fields.stateDirProblem(stateDir));
        Fields.addIfPresent(problems, Fields.errorLogProblem(errorLog));
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
        if (!domains.isEmpty()) {
            throw new IllegalStateException("a list of domains runs the engine once per domain: see forDomain");
        }
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
        if (quiesce) {
            args.add("--quiesce");
        }
        if (verify) {
            args.add("--verify");
        }
        if (compress) {
            args.add("--compress");
        }
        if (mode.equals(BackupMode.SNAPSHOT_DM.cliName())) {
            addOption(args, "--snapshot-size", snapshotSize);
        }
        addOption(args, "--overlay-dir", overlayDir);
        addOption(args, "--state-dir", stateDir);
        addOption(args, "--error-log", errorLog);
        if (verbose) {
            args.add("--verbose");
        }
        args.addAll(keep);
        if (allDomains) {
            args.add("--all");
            for (String exclude : excludes) {
                args.add("--exclude");
                args.add(exclude);
            }
            args.add("--parallel");
            args.add(Integer.toString(parallel));
            return args;
        }
        args.add("--");
        args.add(domain);
        args.addAll(disks);
        return args;
    }

    /** {@code option value}, unless the value is null (not given). */
    private static void addOption(List<String> args, String option, String value) {
        if (value != null) {
            args.add(option);
            args.add(value);
        }
    }

    @Override
    public String toString() {
        if (!domains.isEmpty()) {
            return String.join(" ", forDomain(String.join(",", domains)).cliArguments());
        }
        return String.join(" ", cliArguments());
    }
}
