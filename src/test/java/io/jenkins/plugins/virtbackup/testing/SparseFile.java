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
