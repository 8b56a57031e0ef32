package io.jenkins.plugins.virtbackup.engine.store;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.copy.Sizes;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The directory one backup is written to: {@code ROOT/DOMAIN/YYYYMMDDTHHMMSSZ}. It is built under a
 * {@code .partial} name and renamed only once every file in it is complete and synced, so a crash
 * at any moment never leaves a directory that looks finished.
 */
public final class BackupDirectory {
    public static final String PARTIAL_SUFFIX = ".partial";
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /**
     * A backup holds a domain's disks and RAM: its files are the owner's alone (0600), its folder
     * may be traversed by other users but not listed (0711), since in live mode QEMU, running as
     * its own user, writes the copies into it.
     */
    public static final Set<PosixFilePermission> DIRECTORY_MODE = PosixFilePermissions.fromString("rwx--x--x");
    public static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");

    private final Path partial;
    private final Path complete;
    /** Directories this run created above the backup, removed again if the run fails. */
    private final List<Path> createdParents;

    private BackupDirectory(Path partial, Path complete, List<Path> createdParents) {
        this.partial = partial;
        this.complete = complete;
        this.createdParents = createdParents;
    }

    /**
     * Creates the {@code .partial} directory for a backup of {@code domain} started at {@code start}.
     *
     * @throws BackupException {@link ExitStatus#USAGE} for a domain name that is not a safe directory
     *         name, {@link ExitStatus#BACKUP_FAILED} when the directory cannot be made
     */
    public static BackupDirectory create(Path root, String domain, Instant start) throws BackupException {
        checkSafeName(domain);
        Path domainDir = root.resolve(domain);
        if (Files.isSymbolicLink(domainDir)) {
            // The backup root may be a link (to a NAS mount, say); a domain's folder in it may not,
            // or anyone who can write the root could send backups, and deletions, elsewhere.
            throw new BackupException(ExitStatus.BACKUP_FAILED, domainDir + " is a symbolic link; "
                    + "refusing to write backups through it");
        }
        List<Path> created = new ArrayList<>();
        try {
            createDirectories(domainDir, created);
            String stamp = STAMP.format(start);
            for (int attempt = 1; ; attempt++) {
                String name = attempt == 1 ? stamp : stamp + "-" + attempt;
                Path complete = domainDir.resolve(name);
                Path partial = domainDir.resolve(name + PARTIAL_SUFFIX);
                if (Files.exists(complete, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                try {
                    Files.createDirectory(partial, PosixFilePermissions.asFileAttribute(DIRECTORY_MODE));
                } catch (FileAlreadyExistsException e) {
                    continue;  // another run started in the same second: take the next name
                }
                BackupDirectory directory = new BackupDirectory(partial, complete, created);
                directory.prepare();
                return directory;
            }
        } catch (IOException e) {
            removeEmpty(created);
            throw new BackupException(ExitStatus.BACKUP_FAILED,
                    "cannot create the backup directory under " + root + ": " + describe(e), e);
        }
    }

    /**
     * Sets the new directory's mode and makes its name durable at once: before the commit it may
     * hold the only way back to a running domain (its saved RAM), which a power cut must not take.
     */
    private void prepare() throws IOException {
        try {
            // Whatever the umask: QEMU must reach it (live mode), nobody else may list it.
            Files.setPosixFilePermissions(partial, DIRECTORY_MODE);
            syncParents();
        } catch (IOException e) {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** The name of a complete backup's folder: its UTC start, {@code -N} when two started in one second. */
    private static final Pattern COMPLETE_NAME = Pattern.compile("(\\d{8}T\\d{6}Z)(-\\d+)?");

    /** Whether {@code name} is what a complete backup's folder is called (the folder may still be anything). */
    public static boolean isCompleteName(String name) {
        return COMPLETE_NAME.matcher(name).matches();
    }

    /** The UTC start a backup folder is named by; empty for a name that is not a backup's. */
    public static Optional<Instant> stampOf(String name) {
        Matcher matcher = COMPLETE_NAME.matcher(name);
        if (!matcher.matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.from(STAMP.parse(matcher.group(1))));
        } catch (DateTimeException e) {
            return Optional.empty();
        }
    }

    /** Refuses names that would put the backup anywhere but directly below the backup root. */
    public static void checkSafeName(String domain) throws BackupException {
        boolean unsafe = domain.isEmpty() || domain.equals(".") || domain.equals("..")
                || domain.indexOf('/') >= 0 || domain.indexOf('\0') >= 0
                || domain.chars().anyMatch(Character::isISOControl);
        if (unsafe) {
            throw new BackupException(ExitStatus.USAGE,
                    "domain name '" + printable(domain) + "' cannot be used as a directory name");
        }
    }

    public Path partialPath() {
        return partial;
    }

    /** Where the backup will be once {@link #commit} succeeds. */
    public Path completePath() {
        return complete;
    }

    public Path file(String name) {
        return partial.resolve(name);
    }

    /** Fails unless the file system holding the backup has {@code bytes} free. */
    public void requireSpace(long bytes) throws BackupException {
        try {
            long usable = Files.getFileStore(partial).getUsableSpace();
            if (usable < bytes) {
                throw new BackupException(ExitStatus.BACKUP_FAILED, String.format(
                        "not enough space in %s: the backup needs up to %s, %s is free",
                        partial.getParent(), Sizes.human(bytes), Sizes.human(usable)));
            }
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED,
                    "cannot check free space in " + partial.getParent() + ": " + describe(e), e);
        }
    }

    /**
     * Syncs the directory and renames it to its final name: from here on the backup counts. When
     * this returns, the backup's files, its name and every directory the run created for it are on
     * disk.
     */
    public void commit() throws IOException {
        syncDirectory(partial);
        Files.move(partial, complete, StandardCopyOption.ATOMIC_MOVE);
        syncParents();
    }

    /**
     * Syncs every directory that holds a name this run added: the domain's folder (the backup's
     * name), and each directory the run created together with the one holding it. A new name is on
     * disk only once the directory that holds it is synced.
     */
    private void syncParents() throws IOException {
        Set<Path> holders = new LinkedHashSet<>();
        holders.add(partial.getParent());
        for (Path created : createdParents) {
            holders.add(created);
            holders.add(created.getParent());
        }
        for (Path holder : holders) {
            syncDirectory(holder);
        }
    }

    /** Deletes the unfinished backup and any directory this run created for it. */
    public void discard() throws IOException {
        deleteTree(partial);
        removeEmpty(createdParents);
    }

    /** Deletes a directory and everything in it, if it exists; links are removed, not followed. */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void createDirectories(Path dir, List<Path> created) throws IOException {
        List<Path> missing = new ArrayList<>();
        for (Path p = dir.toAbsolutePath(); p != null && !Files.exists(p); p = p.getParent()) {
            missing.add(0, p);
        }
        for (Path p : missing) {
            try {
                Files.createDirectory(p);
                created.add(0, p);
            } catch (FileAlreadyExistsException e) {
                // A run beside this one (another domain of --all --parallel) made it meanwhile: it is
                // not ours to remove, and a folder is what we need.
                if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    throw e;
                }
            }
        }
        if (!Files.isDirectory(dir)) {
            throw new FileSystemException(dir.toString(), null, "not a directory");
        }
    }

    /** Removes the given directories, innermost first, as long as they are empty. */
    private static void removeEmpty(List<Path> dirs) {
        for (Path dir : dirs) {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                if (entries.iterator().hasNext()) {
                    return;
                }
            } catch (IOException e) {
                return;
            }
            try {
                Files.delete(dir);
            } catch (IOException e) {
                return;
            }
        }
    }

    public static void syncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /** A one-line reason for an I/O failure, without the Java exception class names. */
    public static String describe(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied: " + e.getMessage();
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getFile() + ": " + fse.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static String printable(String s) {
        StringBuilder out = new StringBuilder();
        s.codePoints().forEach(c -> {
            if (Character.isISOControl(c)) {
                out.append(String.format("\\x%02x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }
}
