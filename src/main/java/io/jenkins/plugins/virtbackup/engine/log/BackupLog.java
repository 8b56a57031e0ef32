package io.jenkins.plugins.virtbackup.engine.log;

import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The run's messages, routed as the original tool did: start, end and problems to the console and
 * syslog; details to the console only with {@code -v}, never to syslog. Every message, details
 * included, is also recorded in the backup's own {@code virt-backup.log}, so a run can be read back
 * later (Jenkins archives that file).
 */
public final class BackupLog implements AutoCloseable {
    private final PrintStream console;
    private final boolean verbose;
    private final boolean interactive;
    private boolean progressShown;
    private final SyslogSink syslog;
    /** Put before each console line: the domain's name while several domains are backed up at once. */
    private final String consolePrefix;
    private final List<String> pending = new ArrayList<>();
    private Path recordFile;
    private FileChannel recordChannel;
    private BufferedWriter record;
    private String lastProblem;

    public BackupLog(PrintStream console, boolean verbose, SyslogSink syslog) {
        this(console, verbose, false, syslog);
    }

    /** @param interactive the console is a terminal: progress is redrawn in place */
    public BackupLog(PrintStream console, boolean verbose, boolean interactive, SyslogSink syslog) {
        this(console, verbose, interactive, syslog, "");
    }

    /**
     * @param consolePrefix put before each console line (not into syslog or the run log), so that the
     *                      lines of runs sharing one console can be told apart: {@code "[web] "}
     */
    public BackupLog(PrintStream console, boolean verbose, boolean interactive, SyslogSink syslog,
                     String consolePrefix) {
        this.console = console;
        this.verbose = verbose;
        this.interactive = interactive;
        this.syslog = syslog;
        this.consolePrefix = consolePrefix;
    }

    public boolean isInteractive() {
        return interactive;
    }

    /** A progress line: redrawn in place on a terminal, else a plain line with {@code -v}. Never recorded. */
    public synchronized void progress(String line) {
        if (interactive) {
            console.print("\r\033[K" + consolePrefix + "virt-backup: " + line);
            console.flush();
            progressShown = true;
        } else if (verbose) {
            console.println(consolePrefix + "virt-backup: " + line);
        }
    }

    /** Ends a redrawn progress line so the next message starts on a clean line. */
    public synchronized void progressDone() {
        if (progressShown) {
            console.print("\r\033[K");
            console.flush();
            progressShown = false;
        }
    }

    /** Start and end of a run: console and syslog. */
    public void milestone(String message) {
        emit(Severity.INFO, message, true, true);
    }

    /** Progress and decisions: console with {@code -v}, run log always. */
    public void detail(String message) {
        emit(Severity.DETAIL, message, verbose, false);
    }

    /** Something a user should know that is not a failure, like a skipped cdrom. */
    public void notice(String message) {
        emit(Severity.NOTICE, message, true, true);
    }

    public void warning(String message) {
        emit(Severity.WARNING, message, true, true);
    }

    public void error(String message) {
        lastProblem = message;
        emit(Severity.ERROR, message, true, true);
    }

    /** The domain is not as it was found. Loud everywhere. */
    public void critical(String message) {
        lastProblem = message;
        emit(Severity.CRITICAL, message, true, true);
    }

    /** The last error or critical message, for callers that report one line (the Jenkins step). */
    public String lastProblem() {
        return lastProblem;
    }

    /** From now on, also append every message to {@code file}, starting with those logged so far. */
    public synchronized void recordTo(Path file) throws IOException {
        recordFile = file;
        recordChannel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(BackupDirectory.FILE_MODE));
        record = new BufferedWriter(Channels.newWriter(recordChannel, StandardCharsets.UTF_8));
        for (String line : pending) {
            writeRecord(line);
        }
        pending.clear();
        record.flush();
    }

    /**
     * Stops recording and puts the run log on disk, its name included, so that it survives a power
     * cut as the backup's other files do; later messages go to the console and syslog only.
     */
    public synchronized void stopRecording() throws IOException {
        if (record == null) {
            return;
        }
        try (BufferedWriter closing = record) {
            closing.flush();
            recordChannel.force(true);
        } finally {
            record = null;
            recordChannel = null;
        }
        BackupDirectory.syncDirectory(recordFile.toAbsolutePath().getParent());
    }

    @Override
    public void close() {
        try {
            stopRecording();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private synchronized void emit(Severity severity, String message, boolean toConsole, boolean toSyslog) {
        if (toConsole) {
            progressDone();
            console.println(consolePrefix + consoleLine(severity, message));
            console.flush();
        }
        if (toSyslog) {
            syslog.send(severity, message);
        }
        String line = Instant.now().truncatedTo(ChronoUnit.MILLIS) + " " + severity + " " + message;
        if (record == null) {
            pending.add(line);
        } else {
            writeRecord(line);
        }
    }

    private static String consoleLine(Severity severity, String message) {
        switch (severity) {
            case CRITICAL:
                return "virt-backup: CRITICAL: " + message;
            case ERROR:
                return "virt-backup: error: " + message;
            case WARNING:
                return "virt-backup: warning: " + message;
            default:
                return "virt-backup: " + message;
        }
    }

    private void writeRecord(String line) {
        try {
            record.write(line);
            record.newLine();
            record.flush();
        } catch (IOException e) {
            // A full disk must not hide the message itself, which already reached the console.
            console.println("virt-backup: warning: cannot write the run log: " + e.getMessage());
        }
    }
}
