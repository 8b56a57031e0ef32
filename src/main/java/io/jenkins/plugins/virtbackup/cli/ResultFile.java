package io.jenkins.plugins.virtbackup.cli;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * {@code --result-file FILE}: writes a run's result (a backup's {@code RunResult}, a restore's
 * {@code RestoreResult}) where scripts and the Jenkins plugin read it.
 */
final class ResultFile {
    private final Path file;

    ResultFile(Path file) {
        this.file = file.toAbsolutePath();
    }

    /**
     * Fails before anything is touched when the file could not be written at the end: a backup
     * whose caller cannot learn where it is would be of little use to it.
     */
    void checkWritable() throws BackupException {
        Path folder = file.getParent();
        if (!Files.isDirectory(folder) || !Files.isWritable(folder)) {
            throw new BackupException(ExitStatus.USAGE,
                    "--result-file: " + folder + " is not a folder this run can write to");
        }
        if (Files.isDirectory(file)) {
            throw new BackupException(ExitStatus.USAGE, "--result-file: " + file + " is a folder");
        }
    }

    /**
     * Writes the result under a temporary name beside the file and renames it into place, so that a
     * reader sees the whole object or the file as it was before, never half of it.
     */
    void write(String json) throws IOException {
        Path temp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer bytes = ByteBuffer.wrap(json.getBytes(StandardCharsets.UTF_8));
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                channel.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** A one-line reason for a failed write, for the run's last error line. */
    String describe(IOException e) {
        return "cannot write the result file " + file + ": " + BackupDirectory.describe(e);
    }
}
