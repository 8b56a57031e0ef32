package io.jenkins.plugins.virtbackup.jenkins;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * What a restore step or a restore test step asks for, as plain values: the builders and pipeline
 * steps turn their fields into this, and it alone decides the engine's command line
 * ({@code virt-backup restore}). A restore test never has a new name or a start: it boots a
 * temporary clone by definition, so those two are not in its factory.
 */
public final class RestoreOptions implements EngineTask {
    private static final long serialVersionUID = 1L;

    /** The engine's default for {@code --timeout}: how long a restore test waits for proof of life. */
    public static final int DEFAULT_TIMEOUT = 300;

    private final boolean test;
    private final String backup;
    private final String uri;
    private final String name;
    private final String diskDir;
    private final boolean start;
    private final int timeout;
    private final String consolePattern;
    private final boolean verbose;
    /** {@code --proof} of a restore test: null for the strongest the clone allows. */
    private final String proof;
    /** {@code --state-dir} and {@code --error-log}: null for the engine's defaults. */
    private final String stateDir;
    private final String errorLog;

    private RestoreOptions(boolean test, String backup, String uri, String name, String diskDir, boolean start,
                           int timeout, String consolePattern, boolean verbose) {
        this(test, backup, uri, name, diskDir, start, timeout, consolePattern, verbose, null, null, null);
    }

    private RestoreOptions(boolean test, String backup, String uri, String name, String diskDir, boolean start,
                           int timeout, String consolePattern, boolean verbose, String proof, String stateDir,
                           String errorLog) {
        this.test = test;
        this.backup = Fields.trimmedPath(backup);
        this.uri = Fields.trimToNull(uri);
        this.name = Fields.trimToNull(name);
        this.diskDir = Fields.trimmedPath(diskDir);
        this.start = start;
        this.timeout = timeout;
        // Blanks can be what a pattern looks for, so only an empty pattern counts as none.
        this.consolePattern = consolePattern == null || consolePattern.isEmpty() ? null : consolePattern;
        this.verbose = verbose;
        this.proof = Fields.trimToNull(proof);
        this.stateDir = Fields.trimmedPath(stateDir);
        this.errorLog = Fields.trimmedPath(errorLog);
    }

    /**
     * A restore of the backup in {@code backup} ({@code DIR/DOMAIN/STAMP} on the node).
     *
     * @param uri     null for libvirt's default (which honours {@code LIBVIRT_DEFAULT_URI})
     * @param name    null to restore the domain as it was (same name and UUID), else a copy by that name
     * @param diskDir null for the disks' original paths
     * @param start   resume or boot the restored domain
     */
    public static RestoreOptions restore(String backup, String uri, String name, String diskDir, boolean start,
                                         boolean verbose) {
        return new RestoreOptions(false, backup, uri, name, diskDir, start, DEFAULT_TIMEOUT, null, verbose);
    }

    /**
     * A restore test of the backup in {@code backup}: a temporary clone booted and removed again.
     *
     * @param diskDir        null for the engine's scratch folder
     * @param timeout        seconds to wait for proof of life
     * @param consolePattern null to accept any console line as proof
     */
    public static RestoreOptions test(String backup, String uri, String diskDir, int timeout, String consolePattern,
                                      boolean verbose) {
        return new RestoreOptions(true, backup, uri, null, diskDir, false, timeout, consolePattern, verbose);
    }

    /**
     * The same restore test holding the clone to this proof of life ({@code --proof}: agent, console or
     * running); a restore has no proof, so it is refused there.
     *
     * @param lifeProof null for the strongest the clone's definition allows
     */
    public RestoreOptions withProof(String lifeProof) {
        if (!test && Fields.trimToNull(lifeProof) != null) {
            throw new IllegalArgumentException("a proof of life goes with a restore test only");
        }
        return new RestoreOptions(test, backup, uri, name, diskDir, start, timeout, consolePattern, verbose,
                lifeProof, stateDir, errorLog);
    }

    /**
     * The same options with the engine's places on the node.
     *
     * @param state  the engine's state directory ({@code --state-dir}; a restore test's scratch folder is
     *               in it unless a disk directory is given); null for {@code $VIRT_BACKUP_STATE_DIR} on the
     *               node, else {@code /var/lib/virt-backup}
     * @param errors the file of libvirt's and qemu-img's error reports ({@code --error-log}); null for
     *               {@code virt-backup-errors.log} in the backup root the backup is in
     */
    public RestoreOptions withNodePaths(String state, String errors) {
        return new RestoreOptions(test, backup, uri, name, diskDir, start, timeout, consolePattern, verbose, proof,
                state, errors);
    }

    public boolean isTest() {
        return test;
    }

    public String backup() {
        return backup;
    }

    @Override
    public Kind kind() {
        return test ? Kind.RESTORE_TEST : Kind.RESTORE;
    }

    @Override
    public String subject() {
        return backup;
    }

    /** Every text field passed through {@code expander} (the freestyle builders expand build variables). */
    public RestoreOptions expand(UnaryOperator<String> expander) {
        return new RestoreOptions(test, expand(expander, backup), expand(expander, uri), expand(expander, name),
                expand(expander, diskDir), start, timeout, expand(expander, consolePattern), verbose,
                expand(expander, proof), expand(expander, stateDir), expand(expander, errorLog));
    }

    private static String expand(UnaryOperator<String> expander, String value) {
        return value == null ? null : expander.apply(value);
    }

    @Override
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        Fields.addIfPresent(problems, Fields.backupProblem(backup));
        Fields.addIfPresent(problems, Fields.uriProblem(uri));
        Fields.addIfPresent(problems, Fields.nameProblem(name));
        Fields.addIfPresent(problems, Fields.diskDirProblem(diskDir));
        Fields.addIfPresent(problems, Fields.stateDirProblem(stateDir));
        Fields.addIfPresent(problems, Fields.errorLogProblem(errorLog));
        if (test) {
            Fields.addIfPresent(problems, Fields.timeoutProblem(timeout));
            Fields.addIfPresent(problems, Fields.consolePatternProblem(consolePattern));
            Fields.addIfPresent(problems, Fields.proofProblem(proof));
        }
        return problems;
    }

    /** The engine's arguments without a result file, as the build log shows the user's choices. */
    public List<String> cliArguments() {
        return cliArguments(null);
    }

    /**
     * {@code restore}, the step's {@code --result-file} first, the user's options, then {@code --} so
     * that a backup path starting with a dash is never read as an option. The test's timeout is
     * written out even when it is the default, so the build log shows how long it waited.
     */
    @Override
    public List<String> cliArguments(String resultFile) {
        List<String> args = new ArrayList<>();
        args.add("restore");
        if (test) {
            args.add("--test");
        }
        if (resultFile != null) {
            args.add("--result-file");
            args.add(resultFile);
        }
        addOption(args, "--connect", uri);
        addOption(args, "--name", name);
        addOption(args, "--disk-dir", diskDir);
        if (start) {
            args.add("--start");
        }
        if (test) {
            args.add("--timeout");
            args.add(Integer.toString(timeout));
            addOption(args, "--console-pattern", consolePattern);
            addOption(args, "--proof", proof);
        }
        addOption(args, "--state-dir", stateDir);
        addOption(args, "--error-log", errorLog);
        if (verbose) {
            args.add("--verbose");
        }
        args.add("--");
        args.add(backup);
        return args;
    }

    private static void addOption(List<String> args, String option, String value) {
        if (value != null) {
            args.add(option);
            args.add(value);
        }
    }

    @Override
    public String toString() {
        return String.join(" ", cliArguments());
    }
}
