package io.jenkins.plugins.virtbackup.engine.restore;

import io.jenkins.plugins.virtbackup.engine.BackupEngine;
import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.engine.store.BackupVerifier;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A complete backup as a restore reads it, checked first: the backup and every backup its disks
 * read through (an incremental's parents) verify against their manifests, and every disk's image
 * chain stays inside the backup tree, so that nothing of the host slips into a restored disk.
 *
 * @param folder        the backup's directory
 * @param manifest      its manifest
 * @param definitionXml the domain definition it holds
 * @param disks         its disk files, in manifest order
 * @param memoryState   the saved RAM, null when the backup has none
 */
record BackupToRestore(Path folder, Manifest manifest, String definitionXml, List<BackedUpFile> disks,
                       Path memoryState) {

    /**
     * Verifies and reads the backup in {@code folder}.
     *
     * @throws BackupException {@link ExitStatus#USAGE} when it is no backup directory,
     *         {@link ExitStatus#VERIFY_FAILED} when it or a backup it builds on fails verification
     */
    static BackupToRestore open(Path folder, BackupVerifier verifier) throws BackupException {
        if (!Files.isDirectory(folder)) {
            throw new BackupException(ExitStatus.USAGE, folder + " is not a directory");
        }
        if (!Files.exists(folder.resolve(Manifest.FILE_NAME))) {
            throw new BackupException(ExitStatus.USAGE, folder + " is not a complete backup: it has no "
                    + Manifest.FILE_NAME + (folder.getFileName().toString().endsWith(BackupDirectory.PARTIAL_SUFFIX)
                    ? " (an unfinished backup)" : ""));
        }
        for (Path backup : chainOf(folder)) {
            if (verifier.verify(backup) != ExitStatus.OK) {
                throw new BackupException(ExitStatus.VERIFY_FAILED, "backup " + backup
                        + " failed verification (see above); nothing was restored");
            }
        }
        Manifest manifest = read(folder);
        List<BackedUpFile> disks = new ArrayList<>();
        Path memory = null;
        for (BackedUpFile file : manifest.files()) {
            if (file.kind().equals(BackedUpFile.DISK)) {
                requireChainInside(folder, file);
                disks.add(file);
            } else if (file.name().equals(BackupEngine.MEMORY_FILE)) {
                memory = folder.resolve(file.name());
            }
        }
        try {
            String definition = Files.readString(folder.resolve(BackupEngine.DEFINITION_FILE), StandardCharsets.UTF_8);
            return new BackupToRestore(folder, manifest, definition, disks, memory);
        } catch (IOException e) {
            throw new BackupException(ExitStatus.VERIFY_FAILED, "cannot read " + BackupEngine.DEFINITION_FILE
                    + " of " + folder + ": " + BackupDirectory.describe(e), e);
        }
    }

    /** The backup and the ones it builds on, itself first: an inc's parents, up to the full. */
    private static Set<Path> chainOf(Path folder) throws BackupException {
        Set<Path> chain = new LinkedHashSet<>();
        Path backup = folder;
        while (backup != null) {
            if (!chain.add(backup.toAbsolutePath().normalize())) {
                throw new BackupException(ExitStatus.VERIFY_FAILED, "the manifests of " + folder
                        + " name their parents in a loop");
            }
            String parent = Files.exists(backup.resolve(Manifest.FILE_NAME))
                    ? read(backup).increment().parent() : null;
            backup = parent == null ? null : backup.resolveSibling(parent);
        }
        return chain;
    }

    private static Manifest read(Path backup) throws BackupException {
        try {
            return Manifest.read(backup);
        } catch (IOException e) {
            throw new BackupException(ExitStatus.VERIFY_FAILED, "cannot read the manifest of " + backup + ": "
                    + BackupDirectory.describe(e), e);
        }
    }

    /**
     * Every image a disk file reads through must be in the backup tree: a backing file elsewhere
     * would make the restored disk depend on whatever that file holds today.
     */
    private static void requireChainInside(Path folder, BackedUpFile disk) throws BackupException {
        Path tree = folder.toAbsolutePath().normalize().getParent();
        BackingChain chain = BackingChain.of(disk.target(), folder.resolve(disk.name()), disk.format());
        for (BackingChain.Image image : chain.images()) {
            if (!image.path().toAbsolutePath().normalize().startsWith(tree)) {
                throw new BackupException(ExitStatus.VERIFY_FAILED, "disk " + disk.target() + ": " + disk.name()
                        + " reads through " + image.path() + ", which is not part of the backup; nothing was restored");
            }
        }
    }

    Path file(BackedUpFile file) {
        return folder.resolve(file.name());
    }
}
