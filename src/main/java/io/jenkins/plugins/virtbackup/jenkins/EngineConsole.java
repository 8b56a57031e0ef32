package io.jenkins.plugins.virtbackup.jenkins;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The engine's standard output on its way into the build log: every byte goes on unchanged, and the
 * last error line is kept for the failure message. Where the backup went comes from the engine's
 * result file, not from these lines.
 */
public final class EngineConsole extends OutputStream {
    static final String ERROR_PREFIX = "virt-backup: error: ";
    static final String CRITICAL_PREFIX = "virt-backup: CRITICAL: ";

    private final OutputStream log;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private String lastProblem;

    public EngineConsole(OutputStream log) {
        this.log = log;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        log.write(b);
        take(b);
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int length) throws IOException {
        log.write(bytes, offset, length);
        for (int i = offset; i < offset + length; i++) {
            take(bytes[i]);
        }
    }

    @Override
    public synchronized void flush() throws IOException {
        log.flush();
    }

    /** Ends a last line that had no newline; the build log itself is not closed. */
    @Override
    public synchronized void close() throws IOException {
        if (line.size() > 0) {
            endLine();
        }
        log.flush();
    }

    /** The message of the engine's last {@code error} or {@code CRITICAL} line, or null. */
    public synchronized String lastProblem() {
        return lastProblem;
    }

    private void take(int b) {
        if (b == '\n') {
            endLine();
        } else {
            line.write(b);
        }
    }

    private void endLine() {
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (text.endsWith("\r")) {
            text = text.substring(0, text.length() - 1);
        }
        if (text.startsWith(ERROR_PREFIX)) {
            lastProblem = text.substring(ERROR_PREFIX.length());
        } else if (text.startsWith(CRITICAL_PREFIX)) {
            lastProblem = text.substring(CRITICAL_PREFIX.length());
        }
    }
}
