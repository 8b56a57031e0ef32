package io.jenkins.plugins.virtbackup.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Snapshots of directory trees and checksums, to prove what a run changed and what it did not. */
public final class Trees {
    private Trees() {
    }

    /** Every file and directory below {@code root}, relative, mapped to its SHA-256 ("dir" for directories). */
    public static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> tree = new TreeMap<>();
        if (!Files.exists(root)) {
            return tree;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                tree.put(root.relativize(p).toString(), Files.isDirectory(p) ? "dir" : sha256(p));
            }
        }
        return tree;
    }

    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The lines a chunk index of {@code file} must hold, computed here without the engine: the
     * SHA-256 of each {@code chunkSize} slice, or {@code zero} for a slice of zeros only.
     */
    public static List<String> chunkLines(Path file, int chunkSize) throws IOException {
        List<String> lines = new ArrayList<>();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] chunk;
            while ((chunk = in.readNBytes(chunkSize)).length > 0) {
                boolean zeros = true;
                for (byte b : chunk) {
                    zeros &= b == 0;
                }
                lines.add(zeros ? "zero" : sha256(chunk));
            }
        }
        return lines;
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
