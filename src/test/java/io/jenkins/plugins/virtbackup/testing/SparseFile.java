package io.jenkins.plugins.virtbackup.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Random;

/**
 * A real sparse file for a test: its length set without writing (one hole), then data written at
 * chosen offsets. Nothing but the written bytes is allocated, so an 8 GiB file costs a few MiB.
 */
public final class SparseFile {
    private final Path path;

    private SparseFile(Path path) {
        this.path = path;
    }

    /** Creates (or truncates) {@code path} as one hole of {@code size} bytes. */
    public static SparseFile create(Path path, long size) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(0);
            file.setLength(size);
        }
        return new SparseFile(path);
    }

    /** Writes {@code data} at {@code offset}. */
    public SparseFile write(long offset, byte[] data) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.seek(offset);
            file.write(data);
        }
        return this;
    }

    /** Writes {@code length} random bytes (seeded by the offset, so runs repeat) at {@code offset}. */
    public SparseFile random(long offset, int length) throws IOException {
        return write(offset, randomBytes(length, offset));
    }

    /**
     * Writes {@code length} bytes at {@code offset} that compress about as a disk's content does:
     * by 64 KiB cluster, in turn random bytes (which no compressor shrinks) and text (which zstd
     * shrinks several times), seeded by the offset.
     */
    public SparseFile halfCompressible(long offset, int length) throws IOException {
        return write(offset, halfCompressibleBytes(length, offset));
    }

    /** The bytes {@link #halfCompressible} writes. */
    public static byte[] halfCompressibleBytes(int length, long seed) {
        byte[] data = new byte[length];
        int cluster = 64 << 10;
        for (int at = 0; at < length; at += cluster) {
            int piece = Math.min(cluster, length - at);
            byte[] bytes = (at / cluster) % 2 == 0 ? randomBytes(piece, seed + at) : textBytes(piece, seed + at);
            System.arraycopy(bytes, 0, data, at, piece);
        }
        return data;
    }

    /** {@code length} bytes of log-like text from {@code seed}: words, numbers, line breaks. */
    public static byte[] textBytes(int length, long seed) {
        String[] words = {"backup", "disk", "cluster", "guest", "kernel", "started", "finished", "error", "warning",
            "copied", "chunk", "image", "checkpoint", "domain", "the", "of", "to", "in", "and", "ms"};
        Random random = new Random(seed);
        StringBuilder text = new StringBuilder(length + 64);
        while (text.length() < length) {
            text.append(words[random.nextInt(words.length)]).append(random.nextInt(8) == 0 ? "\n" : " ");
            if (random.nextInt(6) == 0) {
                text.append(random.nextInt(100_000)).append(' ');
            }
        }
        return text.substring(0, length).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** Syncs the file, so that tools reading the file system's extent tree see it as written. */
    public Path synced() throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.getFD().sync();
        }
        return path;
    }

    public Path path() {
        return path;
    }

    /** {@code length} random bytes from {@code seed}: a 4 KiB block of them is never all zeros in practice. */
    public static byte[] randomBytes(int length, long seed) {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return data;
    }

    /** Sets the length of {@code file}, cutting or growing it (the growth a hole). */
    public static void resize(Path file, long size) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
        }
    }
}
