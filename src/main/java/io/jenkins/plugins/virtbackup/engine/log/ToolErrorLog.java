package io.jenkins.plugins.virtbackup.engine.log;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * The separate log for what external components report when they fail (libvirt's full error
 * records, later external tools' stderr), so the console and syslog keep one clear line each.
 * The file is created on the first report only: a clean run leaves nothing behind.
 */
public final class ToolErrorLog {
    private final Path file;

    public ToolErrorLog(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    public synchronized void append(String source, String report) {
        String entry = Instant.now() + " [" + source + "] " + report.strip() + System.lineSeparator();
        try {
            Files.writeString(file, entry, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException e) {
            // The report must not be lost because its log is unwritable: stderr is the last resort.
            System.err.print("virt-backup: cannot write the error log " + file + ": " + e.getMessage()
                    + System.lineSeparator() + entry);
        }
    }
}
