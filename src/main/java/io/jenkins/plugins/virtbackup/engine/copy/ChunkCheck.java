package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks a backed-up file against its chunk index, reading what reached the disk: only the chunks
 * the file system says hold data. A chunk the index lists as zeros costs a question to the file
 * system, unless data appeared in it: then that data is read, and anything but zeros fails.
 */
public final class ChunkCheck {
    /** The most chunk differences named one by one; the rest are counted. */
    private static final int NAMED = 5;

    private final ChunkPipeline pipeline;
    private final FileExtents extents;

    public ChunkCheck(ChunkPipeline pipeline, FileExtents extents) {
        this.pipeline = pipeline;
        this.extents = extents;
    }

    /**
     * Checks {@code name} in {@code folder} of logical size {@code size} against its index.
     *
     * @return one line per problem, empty when the file matches
     */
    public List<String> check(Path folder, String name, long size, ChunkIndex.Ref ref) throws IOException {
        // The chunk size first: the manifest is plain JSON, and a size of 0 would divide by zero.
        if (ref.chunkSize() != ChunkIndex.CHUNK_SIZE || ref.chunks() != ChunkIndex.chunkCount(size, ref.chunkSize())) {
            return List.of(ref.file() + " does not fit a file of " + size + " bytes in chunks of " + ref.chunkSize());
        }
        ChunkIndex.Reader expected;
        try {
            expected = ChunkIndex.Reader.open(folder, ref);
        } catch (NoSuchFileException e) {
            return List.of(ref.file() + " is missing");
        } catch (IOException e) {
            return List.of(e.getMessage());
        }
        try (expected) {
            return check(folder, name, size, ref, expected);
        } catch (NoSuchFileException e) {
            return List.of(name + " is missing");
        }
    }

    private List<String> check(Path folder, String name, long size, ChunkIndex.Ref ref, ChunkIndex.Reader expected)
            throws IOException {
        List<String> problems = new ArrayList<>();
        try (FileSource source = FileSource.openDirect(folder.resolve(name), extents)) {
            if (source.size() != size) {
                return List.of(name + " is " + source.size() + " bytes, the manifest says " + size);
            }
            long[] differing = {0};
            pipeline.run(source, null, (chunk, actual) -> {
                String wanted = expected.next();
                boolean same = wanted == null ? actual == null : wanted.equals(actual);
                if (!same && differing[0]++ < NAMED) {
                    problems.add(name + " chunk " + chunk + " (bytes " + chunk * ref.chunkSize() + "...) differs: "
                            + (wanted == null ? "zeros expected" : "sha256 " + wanted + " expected") + ", found "
                            + (actual == null ? "zeros" : "sha256 " + actual));
                }
            }, null, null);
            if (differing[0] > NAMED) {
                problems.add(name + ": " + differing[0] + " chunks differ in all");
            }
        }
        return problems;
    }
}
