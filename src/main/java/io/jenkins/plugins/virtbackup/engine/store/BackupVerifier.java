package io.jenkins.plugins.virtbackup.engine.store;

import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkCheck;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkPipeline;
import io.jenkins.plugins.virtbackup.engine.copy.FileExtents;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code virt-backup verify DIR}: reads a backup back from disk and compares every file with its
 * manifest. A file of manifest format 2 is checked chunk by chunk against its chunk index, reading
 * only the chunks that hold data; one of format 1 is read whole against its SHA-256.
 */
public final class BackupVerifier {
    private final BackupLog log;
    private final ChunkCheck chunkCheck;
    private final WholeFileCheck wholeFileCheck;

    public BackupVerifier(BackupLog log, FileExtents extents) {
        this.log = log;
        this.chunkCheck = new ChunkCheck(new ChunkPipeline(() -> false), extents);
        this.wholeFileCheck = new WholeFileCheck(extents);
    }

    /** Checks one backup directory; every problem is logged as an error, one line each. */
    public ExitStatus verify(Path backup) {
        List<String> problems = new ArrayList<>();
        if (backup.getFileName() != null && backup.getFileName().toString().endsWith(BackupDirectory.PARTIAL_SUFFIX)) {
            problems.add(backup + " is an unfinished backup (" + BackupDirectory.PARTIAL_SUFFIX + ")");
        }
        List<BackedUpFile> files = List.of();
        try {
            files = Manifest.read(backup).files();
        } catch (IOException e) {
            problems.add("cannot read " + backup.resolve(Manifest.FILE_NAME) + ": " + BackupDirectory.describe(e));
        }
        for (BackedUpFile file : files) {
            check(backup, file, problems);
        }
        problems.forEach(log::error);
        if (!problems.isEmpty()) {
            return ExitStatus.VERIFY_FAILED;
        }
        log.milestone("backup " + backup + " verified: " + files.size() + " file(s) match the manifest");
        return ExitStatus.OK;
    }

    /** The manifest's reader has made sure the names stay in the backup's folder. */
    private void check(Path backup, BackedUpFile file, List<String> problems) {
        try {
            List<String> found = file.checksum() instanceof BackedUpFile.Chunked chunked
                    ? chunkCheck.check(backup, file.name(), file.size(), chunked.index())
                    : wholeFileCheck.check(backup, file.name(), file.size(),
                            ((BackedUpFile.WholeFile) file.checksum()).sha256());
            if (found.isEmpty()) {
                log.detail(file.name() + ": ok");
            }
            problems.addAll(found);
        } catch (NoSuchFileException e) {
            problems.add(file.name() + " is missing");
        } catch (IOException e) {
            problems.add("cannot read " + file.name() + ": " + BackupDirectory.describe(e));
        }
    }
}
