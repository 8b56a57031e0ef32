package io.jenkins.plugins.virtbackup.jenkins;

import io.jenkins.plugins.virtbackup.engine.copy.Sizes;
import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.restore.LifeProof;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Normalizing and checking the step's fields, by syntax only: nothing here connects to a hypervisor
 * or looks at a file system, so form validation on the controller stays harmless. Each check returns
 * a message, or null when the value is fine. A value that still holds a {@code $} (a build variable
 * the freestyle builder expands later) is not checked until it is expanded.
 */
public final class Fields {
    /** {@code scheme:} as libvirt URIs start ({@code qemu:///system}, {@code qemu+ssh://host/system}). */
    private static final Pattern URI_SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*:\\S*");
    /** {@code user:password@} in the authority of a URI. */
    private static final Pattern URI_PASSWORD = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*://[^/@]*:[^/@]*@.*");
    private static final Pattern DISK_SEPARATORS = Pattern.compile("[\\s,]+");

    private Fields() {
    }

    /** Form fields arrive as empty strings; the model keeps null for "not given". */
    public static String trimToNull(String value) {
        if (value == null) {
            return null;
        }
        String trimmed = value.trim();
        return trimmed.isEmpty() ? null : trimmed;
    }

    /**
     * Disk names as a clean list. The form has one text box, which arrives as a single element
     * ({@code "vda vdb"}); a pipeline passes a list. Both are split at blanks and commas.
     */
    public static List<String> diskNames(List<String> given) {
        List<String> names = new ArrayList<>();
        if (given != null) {
            for (String entry : given) {
                if (entry != null) {
                    for (String name : DISK_SEPARATORS.split(entry.trim())) {
                        if (!name.isEmpty()) {
                            names.add(name);
                        }
                    }
                }
            }
        }
        return names;
    }

    /** A path field: trimmed, empty as null, and slashes as {@link #unixPath} leaves them. */
    static String trimmedPath(String path) {
        String value = trimToNull(path);
        return value == null ? null : unixPath(value);
    }

    /** Removes repeated and trailing slashes, as the engine's paths print; leaves everything else alone. */
    static String unixPath(String path) {
        String collapsed = path.replaceAll("/{2,}", "/");
        return collapsed.length() > 1 && collapsed.endsWith("/")
                ? collapsed.substring(0, collapsed.length() - 1) : collapsed;
    }

    /** The names the mode list offers: the engine's modes that this version can run. */
    public static List<String> availableModes() {
        List<String> modes = new ArrayList<>();
        for (BackupMode mode : BackupMode.values()) {
            if (mode.isAvailable()) {
                modes.add(mode.cliName());
            }
        }
        return modes;
    }

    /** The names the level list offers: every level of the engine. */
    public static List<String> levels() {
        List<String> levels = new ArrayList<>();
        for (BackupLevel level : BackupLevel.values()) {
            levels.add(level.cliName());
        }
        return levels;
    }

    public static String domainProblem(String domain) {
        String value = trimToNull(domain);
        if (value == null) {
            return Messages.Fields_domainRequired();
        }
        if (hasVariable(value)) {
            return null;
        }
        // The engine uses the name as a directory name below the backup root.
        return unsafeAsFileName(value) ? Messages.Fields_domainUnsafe(value) : null;
    }

    /** One domain, a list, or all: exactly one of them. */
    public static String domainChoiceProblem(String domain, List<String> domains, boolean allDomains) {
        int chosen = (trimToNull(domain) != null ? 1 : 0) + (domains.isEmpty() ? 0 : 1) + (allDomains ? 1 : 0);
        if (chosen > 1) {
            return Messages.Fields_domainChoice();
        }
        return null;
    }

    /**
     * What goes only with one domain (its disks) or only with several ({@code unstableOnFailure}) or
     * all ({@code excludes}, {@code parallel}).
     */
    static String manyDomainsProblem(List<String> disks, boolean allDomains, List<String> excludes, int parallel,
                                     boolean many, boolean unstableOnFailure) {
        if (many && !disks.isEmpty()) {
            return Messages.Fields_disksWithManyDomains();
        }
        if (!allDomains && (!excludes.isEmpty() || parallel != 1)) {
            return Messages.Fields_excludesWithoutAll();
        }
        if (!many && unstableOnFailure) {
            return Messages.Fields_unstableWithOneDomain();
        }
        return parallelProblem(parallel);
    }

    /** For the form's text box of domain names: every name in it. */
    public static String domainsProblem(String domains) {
        for (String name : diskNames(List.of(domains == null ? "" : domains))) {
            String problem = domainProblem(name);
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    /** For the form's text box of exclude patterns. */
    public static String excludesProblem(String excludes) {
        for (String pattern : diskNames(List.of(excludes == null ? "" : excludes))) {
            String problem = excludeProblem(pattern);
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    static String excludeProblem(String pattern) {
        return pattern.chars().anyMatch(Character::isISOControl) ? Messages.Fields_excludeBad(pattern) : null;
    }

    /** For the form's text box. */
    public static String parallelProblem(String atOnce) {
        try {
            return parallelProblem(Integer.parseInt(atOnce == null ? "" : atOnce.trim()));
        } catch (NumberFormatException e) {
            return Messages.Fields_parallelNotPositive();
        }
    }

    public static String parallelProblem(int atOnce) {
        return atOnce > 0 ? null : Messages.Fields_parallelNotPositive();
    }

    private static boolean unsafeAsFileName(String value) {
        return value.equals(".") || value.equals("..") || value.indexOf('/') >= 0
                || value.chars().anyMatch(Character::isISOControl);
    }

    public static String uriProblem(String uri) {
        String value = trimToNull(uri);
        if (value == null || hasVariable(value)) {
            return null;
        }
        if (URI_PASSWORD.matcher(value).matches()) {
            // The command line is printed in the build log: a password there would be public.
            return Messages.Fields_uriPassword();
        }
        return URI_SCHEME.matcher(value).matches() ? null : Messages.Fields_uriMalformed(value);
    }

    /** For the form's text box: every name in it. */
    public static String disksProblem(String disks) {
        for (String disk : diskNames(List.of(disks == null ? "" : disks))) {
            String problem = diskProblem(disk);
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    static String diskProblem(String disk) {
        if (hasVariable(disk)) {
            return null;
        }
        return disk.chars().anyMatch(Character::isISOControl) ? Messages.Fields_diskBad(disk) : null;
    }

    public static String modeProblem(String mode) {
        String value = trimToNull(mode);
        if (value == null || hasVariable(value) || availableModes().contains(value)) {
            return null;
        }
        return Messages.Fields_modeUnknown(value, String.join(", ", availableModes()));
    }

    public static String levelProblem(String level) {
        String value = trimToNull(level);
        if (value == null || hasVariable(value) || levels().contains(value)) {
            return null;
        }
        return Messages.Fields_levelUnknown(value, String.join(", ", levels()));
    }

    public static String backupDirProblem(String backupDir) {
        String value = trimToNull(backupDir);
        if (value == null || hasVariable(value)) {
            return null;
        }
        return value.startsWith("/") ? null : Messages.Fields_backupDirNotAbsolute(value);
    }

    /** The overlay folder of snapshot-libvirt mode ({@code --overlay-dir}): empty or an absolute path. */
    public static String overlayDirProblem(String overlayDir) {
        return notAbsolute(overlayDir) ? Messages.Fields_overlayDirNotAbsolute(overlayDir.trim()) : null;
    }

    /** The engine's state directory, its locks and journals ({@code --state-dir}): empty or absolute. */
    public static String stateDirProblem(String stateDir) {
        return notAbsolute(stateDir) ? Messages.Fields_stateDirNotAbsolute(stateDir.trim()) : null;
    }

    /** The file of libvirt's and the tools' error reports ({@code --error-log}): empty or absolute. */
    public static String errorLogProblem(String errorLog) {
        return notAbsolute(errorLog) ? Messages.Fields_errorLogNotAbsolute(errorLog.trim()) : null;
    }

    /**
     * Options the engine accepts in any mode but uses in some only: {@code --quiesce} in the live
     * modes, {@code --overlay-dir} in snapshot-libvirt. The engine ignores them elsewhere (with a
     * notice, for quiesce), so this is a warning for the form, not a reason to refuse the run.
     */
    public static String unusedInModeProblem(String mode, boolean quiesce, String overlayDir) {
        BackupMode known = knownMode(mode);
        if (known == null) {
            return null;
        }
        if (quiesce && !known.canQuiesce()) {
            return Messages.Fields_quiesceUnused(known.cliName());
        }
        if (trimToNull(overlayDir) != null && !known.usesOverlays()) {
            return Messages.Fields_overlayDirUnused(known.cliName());
        }
        return null;
    }

    /**
     * The room of each LVM snapshot in snapshot-dm mode ({@code --snapshot-size}): empty (the
     * engine's default) or a size the engine's own parser takes, more than 0, so that the form and
     * the command line agree on what a size is.
     */
    public static String snapshotSizeProblem(String size) {
        String value = trimToNull(size);
        if (value == null || hasVariable(value)) {
            return null;
        }
        try {
            return Sizes.parse(value) > 0 ? null : Messages.Fields_snapshotSizeZero();
        } catch (IllegalArgumentException e) {  // not a size, or more bytes than a long holds
            return Messages.Fields_snapshotSizeBad(value);
        }
    }

    /**
     * A snapshot size given for a mode that takes no LVM snapshots. The engine refuses the option
     * there, so the step leaves it off the command line ({@link BackupOptions#cliArguments}): a
     * warning for the form, not a reason to refuse the run (a job may choose its mode by parameter).
     */
    public static String snapshotSizeUnusedProblem(String mode, String size) {
        BackupMode known = knownMode(mode);
        if (known == null || known == BackupMode.SNAPSHOT_DM || trimToNull(size) == null) {
            return null;
        }
        return Messages.Fields_snapshotSizeUnused(known.cliName());
    }

    /** The mode a field names, empty for the default; null for a variable or a mode {@link #modeProblem} names. */
    private static BackupMode knownMode(String mode) {
        String value = trimToNull(mode);
        return value == null ? BackupMode.SUSPEND : BackupMode.fromCliName(value).orElse(null);
    }

    /** The names the proof list offers, strongest first: the engine's {@code --proof} values. */
    public static List<String> lifeProofs() {
        List<String> proofs = new ArrayList<>();
        for (LifeProof proof : LifeProof.values()) {
            proofs.add(proof.cliName());
        }
        return proofs;
    }

    /** A restore test's proof: empty (the strongest the clone allows) or one of {@link #lifeProofs}. */
    public static String proofProblem(String proof) {
        String value = trimToNull(proof);
        if (value == null || hasVariable(value) || lifeProofs().contains(value)) {
            return null;
        }
        return Messages.Fields_proofUnknown(value, String.join(", ", lifeProofs()));
    }

    /** A path given, without a build variable, that does not start at the root. */
    private static boolean notAbsolute(String path) {
        String value = trimToNull(path);
        return value != null && !hasVariable(value) && !value.startsWith("/");
    }

    /** For the form's text box. */
    public static String shutdownTimeoutProblem(String seconds) {
        String value = trimToNull(seconds);
        if (value == null) {
            return Messages.Fields_shutdownTimeoutNotPositive();
        }
        try {
            return shutdownTimeoutProblem(Integer.parseInt(value));
        } catch (NumberFormatException e) {
            return Messages.Fields_shutdownTimeoutNotPositive();
        }
    }

    public static String shutdownTimeoutProblem(int seconds) {
        return seconds > 0 ? null : Messages.Fields_shutdownTimeoutNotPositive();
    }

    /** A {@code --keep-*} count: empty (none) or a whole number, 0 or more. */
    public static String keepCountProblem(String count) {
        String value = trimToNull(count);
        if (value == null) {
            return null;
        }
        try {
            return Integer.parseInt(value) >= 0 ? null : Messages.BackupRetention_negative();
        } catch (NumberFormatException e) {
            return Messages.BackupRetention_negative();
        }
    }

    /** The backup a restore reads: required, and a path on the node ({@code DIR/DOMAIN/STAMP}). */
    public static String backupProblem(String backup) {
        String value = trimToNull(backup);
        if (value == null) {
            return Messages.Fields_backupRequired();
        }
        if (hasVariable(value)) {
            return null;
        }
        if (value.chars().anyMatch(Character::isISOControl)) {
            return Messages.Fields_backupBad(value);
        }
        return value.startsWith("/") ? null : Messages.Fields_backupNotAbsolute(value);
    }

    /** A restored copy's new name: the engine names its disk images after it. */
    public static String nameProblem(String name) {
        String value = trimToNull(name);
        if (value == null || hasVariable(value)) {
            return null;
        }
        return unsafeAsFileName(value) ? Messages.Fields_nameUnsafe(value) : null;
    }

    public static String diskDirProblem(String diskDir) {
        String value = trimToNull(diskDir);
        if (value == null || hasVariable(value)) {
            return null;
        }
        return value.startsWith("/") ? null : Messages.Fields_diskDirNotAbsolute(value);
    }

    /** For the form's text box. */
    public static String timeoutProblem(String seconds) {
        String value = trimToNull(seconds);
        try {
            return value == null ? Messages.Fields_timeoutNotPositive() : timeoutProblem(Integer.parseInt(value));
        } catch (NumberFormatException e) {
            return Messages.Fields_timeoutNotPositive();
        }
    }

    public static String timeoutProblem(int seconds) {
        return seconds > 0 ? null : Messages.Fields_timeoutNotPositive();
    }

    /**
     * A console pattern must compile as a Java regular expression, since the engine (Java too)
     * compiles it. {@code $} is a regular expression's own character, so only a {@code ${NAME}},
     * which the freestyle builders expand before the run, postpones the check.
     */
    public static String consolePatternProblem(String pattern) {
        if (pattern == null || pattern.isEmpty()) {
            return null;
        }
        try {
            Pattern.compile(pattern);
            return null;
        } catch (PatternSyntaxException e) {
            if (pattern.contains("${")) {
                return null;
            }
            return Messages.Fields_consolePatternBad(pattern, e.getDescription());
        }
    }

    private static boolean hasVariable(String value) {
        return value.indexOf('$') >= 0;
    }

    /** Adds {@code problem} to {@code problems} unless it is null (no problem). */
    static void addIfPresent(List<String> problems, String problem) {
        if (problem != null) {
            problems.add(problem);
        }
    }
}
