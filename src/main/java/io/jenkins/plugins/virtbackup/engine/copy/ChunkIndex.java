package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The chunk index of one backed-up file, {@code NAME.chunks} beside it: the file cut into chunks of
 * {@link #CHUNK_SIZE} bytes (the last one shorter), one line per chunk, in order. A line is either
 * the lowercase hex SHA-256 of the chunk's bytes or {@link #ZERO} for a chunk that reads as zeros
 * only (a hole, or written zeros), which has no digest. The manifest holds the SHA-256 of the whole
 * index file, which ties the list together; {@code sha256sum} checks it, {@code dd} and
 * {@code sha256sum} check every chunk (docs/format.md).
 *
 * <p>Verifying then reads only the chunks that hold data, and a chunk listed as zeros costs one
 * question to the file system unless data appeared in it.
 */
public final class ChunkIndex {
    /** Small enough that a few KiB of data in a sparse disk cost little hashing of zeros around them. */
    public static final int CHUNK_SIZE = 1 << 20;
    public static final String SUFFIX = ".chunks";
    public static final String ZERO = "zero";
    private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{64}");

    private ChunkIndex() {
    }

    /**
     * What the manifest says of an index.
     *
     * @param file       the index file's name, in the backup's folder
     * @param chunkSize  the chunk size in bytes
     * @param chunks     how many chunks (lines)
     * @param dataChunks how many of them hold data (have a digest)
     * @param sha256     the SHA-256 of the index file
     */
    public record Ref(String file, int chunkSize, long chunks, long dataChunks, String sha256) {
    }

    /** The name of the index of {@code fileName}. */
    public static String fileName(String fileName) {
        return fileName + SUFFIX;
    }

    /** How many chunks a file of {@code size} bytes has. */
    public static long chunkCount(long size, int chunkSize) {
        return (size + chunkSize - 1) / chunkSize;
    }

    /** Receives the chunks' entries in order: a digest, or null for a chunk of zeros. */
    @FunctionalInterface
    public interface Entries {
        void add(long chunk, String sha256) throws IOException;
    }

    /** Writes an index as its entries arrive, and digests it on the way. */
    public static final class Writer implements Entries, AutoCloseable {
        private final Path file;
        private final OutputStream out;
        private final FileChannel channel;
        private final MessageDigest sha256 = Digests.sha256();
        private long chunks;
        private long dataChunks;

        private Writer(Path file, FileChannel channel) {
            this.file = file;
            this.channel = channel;
            this.out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
        }

        /** Creates the index file, which must not exist yet. */
        public static Writer create(Path file, Set<PosixFilePermission> mode) throws IOException {
            return new Writer(file, FileChannel.open(file,
                    Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(mode)));
        }

        @Override
        public void add(long chunk, String digest) throws IOException {
            if (chunk != chunks) {
                throw new IllegalStateException("chunk " + chunk + " arrived as number " + chunks);
            }
            byte[] line = ((digest == null ? ZERO : digest) + "\n").getBytes(StandardCharsets.US_ASCII);
            out.write(line);
            sha256.update(line);
            chunks++;
            if (digest != null) {
                dataChunks++;
            }
        }

        /** Syncs the index to disk and returns what the manifest says of it. */
        public Ref finish(int chunkSize) throws IOException {
            out.flush();
            channel.force(true);
            return new Ref(file.getFileName().toString(), chunkSize, chunks, dataChunks,
                    HexFormat.of().formatHex(sha256.digest()));
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    /**
     * Reads an index back, entry by entry, so that checking a disk of any size takes the same
     * memory. The whole index is checked against {@code ref} before the first entry: its digest,
     * its length, each line.
     */
    public static final class Reader implements AutoCloseable {
        private final String name;
        private final BufferedReader lines;

        private Reader(String name, BufferedReader lines) {
            this.name = name;
            this.lines = lines;
        }

        /** @throws IOException with a one-line reason when the index is missing or does not match */
        public static Reader open(Path folder, Ref ref) throws IOException {
            Path file = folder.resolve(ref.file());
            checkWhole(file, ref);
            return new Reader(ref.file(), Files.newBufferedReader(file, StandardCharsets.US_ASCII));
        }

        /** The next entry: a digest, or null for a chunk of zeros. */
        public String next() throws IOException {
            String line = lines.readLine();
            if (line == null) {
                throw new IOException(name + " ended early: it changed while it was read");
            }
            return line.equals(ZERO) ? null : line;
        }

        @Override
        public void close() throws IOException {
            lines.close();
        }

        private static void checkWhole(Path file, Ref ref) throws IOException {
            MessageDigest sha256 = Digests.sha256();
            long count = 0;
            long badLine = 0;
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(
                    new DigestInputStream(Files.newInputStream(file), sha256), StandardCharsets.US_ASCII))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    count++;
                    if (badLine == 0 && !line.equals(ZERO) && !DIGEST.matcher(line).matches()) {
                        badLine = count;
                    }
                }
            }
            // The digest first: it is what the manifest vouches for, whatever the damage looks like.
            String actual = HexFormat.of().formatHex(sha256.digest());
            if (!actual.equals(ref.sha256())) {
                throw new IOException(ref.file() + " differs from the manifest (sha256 " + actual + ", expected "
                        + ref.sha256() + ")");
            }
            if (badLine > 0) {
                throw new IOException(ref.file() + " line " + badLine + " is neither a SHA-256 nor '" + ZERO + "'");
            }
            if (count != ref.chunks()) {
                throw new IOException(ref.file() + " lists " + count + " chunks, the manifest " + ref.chunks());
            }
        }
    }
}
