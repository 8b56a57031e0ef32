package io.jenkins.plugins.virtbackup.engine.store;

import io.jenkins.plugins.virtbackup.engine.copy.ChunkIndex;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkPipeline;
import io.jenkins.plugins.virtbackup.engine.copy.Digests;
import io.jenkins.plugins.virtbackup.engine.copy.FileExtents;
import io.jenkins.plugins.virtbackup.engine.copy.FileSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * Checks a file of a manifest format 1 backup, which has no chunk index: its whole logical content
 * against one SHA-256. Data is read as it reached the disk ({@link FileSource#openDirect}); holes are
 * not read but hashed as the zeros they read as, since the digest covers them.
 */
final class WholeFileCheck {
    private final FileExtents extents;

    WholeFileCheck(FileExtents extents) {
        this.extents = extents;
    }

    /** One line per problem, empty when {@code name} in {@code folder} has {@code size} and {@code sha256}. */
    List<String> check(Path folder, String name, long size, String sha256) throws IOException {
        try (FileSource source = FileSource.openDirect(folder.resolve(name), extents)) {
            if (source.size() != size) {
                return List.of(name + " is " + source.size() + " bytes, the manifest says " + size);
            }
            String actual = digest(source);
            return actual.equals(sha256) ? List.of()
                    : List.of(name + " differs from the manifest (sha256 " + actual + ", expected " + sha256 + ")");
        } catch (NoSuchFileException e) {
            return List.of(name + " is missing");
        }
    }

    private static String digest(FileSource source) throws IOException {
        MessageDigest digest = Digests.sha256();
        ByteBuffer chunk = ChunkPipeline.newChunkBuffer();
        for (long start = 0; start < source.size(); start += ChunkIndex.CHUNK_SIZE) {
            int length = (int) Math.min(ChunkIndex.CHUNK_SIZE, source.size() - start);
            ChunkPipeline.readChunk(source, chunk, start, length, source.extents(start, start + length));
            digest.update(chunk.slice(0, length));
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
