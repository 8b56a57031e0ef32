package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A chunk index worked out the plain way, to compare the pipeline's with: each 1 MiB slice of a
 * file read on its own and given to a fresh SHA-256, "zero" when it holds only zeros.
 */
final class IndependentIndex {
    static final int CHUNK = 1 << 20;

    private IndependentIndex() {
    }

    /** Every chunk's line: reads the whole file, so only for small ones. */
    static List<String> of(Path file) throws IOException {
        List<String> lines = new ArrayList<>();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            for (long chunk = 0; chunk * CHUNK < channel.size(); chunk++) {
                lines.add(line(channel, chunk));
            }
        }
        return lines;
    }

    /** The line of chunk number {@code chunk} of {@code file}. */
    static String line(Path file, long chunk) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return line(channel, chunk);
        }
    }

    private static String line(FileChannel channel, long chunk) throws IOException {
        long start = chunk * CHUNK;
        byte[] bytes = new byte[(int) Math.min(CHUNK, channel.size() - start)];
        ByteBuffer into = ByteBuffer.wrap(bytes);
        while (into.hasRemaining()) {
            if (channel.read(into, start + into.position()) < 0) {
                throw new IOException("file ended inside chunk " + chunk);
            }
        }
        boolean zeros = true;
        for (byte b : bytes) {
            zeros &= b == 0;
        }
        return zeros ? "zero" : sha256(bytes);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
