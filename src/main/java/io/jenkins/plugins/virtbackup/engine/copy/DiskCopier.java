package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * Copies a disk image into a backup and writes its chunk index beside it, moving only data: a
 * {@link FileSource} says where the data is, the {@link ChunkPipeline} hashes it on every core, a
 * {@link SparseFileSink} writes it and leaves holes as holes. Each file is synced before the copy
 * returns; reading it back is a separate, opt-in step ({@link #readBack}).
 */
public final class DiskCopier {
    private final ChunkPipeline pipeline;
    private final BooleanSupplier cancelled;
    private final FileExtents extents;
    private final Set<PosixFilePermission> mode;

    /**
     * @param cancelled polled between chunks; when it turns true the copy stops with an exception
     * @param extents   where files hold data
     * @param mode      the permissions of the files written
     */
    public DiskCopier(BooleanSupplier cancelled, FileExtents extents, Set<PosixFilePermission> mode) {
        this.pipeline = new ChunkPipeline(cancelled);
        this.cancelled = cancelled;
        this.extents = extents;
        this.mode = mode;
    }

    /** What the copies poll to learn that the run is stopped: for copies other tools make. */
    public BooleanSupplier cancelled() {
        return cancelled;
    }

    /**
     * Copies {@code source} into {@code target}, which must not exist yet, and its index into
     * {@code target.chunks}; both are synced.
     *
     * @param progress   may be null
     * @param firstChunk may be null; changes the copy's first chunk before it is hashed and written
     */
    public FileDigest copy(Path source, Path target, Progress progress, ChunkPipeline.FirstChunk firstChunk)
            throws IOException {
        try (FileSource in = FileSource.open(source, extents);
             SparseFileSink out = SparseFileSink.create(target, mode);
             ChunkIndex.Writer index = ChunkIndex.Writer.create(indexOf(target), mode)) {
            ChunkPipeline.Totals totals = pipeline.run(in, out, index, firstChunk, progress);
            in.checkSizeUnchanged();
            out.finish(totals.size());
            return new FileDigest(totals.size(), index.finish(ChunkIndex.CHUNK_SIZE), totals.dataBytes());
        }
    }

    /** Syncs a file another process wrote (libvirt, QEMU, or this one) and writes its index beside it. */
    public FileDigest index(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        try (FileSource in = FileSource.open(file, extents);
             ChunkIndex.Writer index = ChunkIndex.Writer.create(indexOf(file), mode)) {
            ChunkPipeline.Totals totals = pipeline.run(in, null, index, null, null);
            in.checkSizeUnchanged();
            return new FileDigest(totals.size(), index.finish(ChunkIndex.CHUNK_SIZE), totals.dataBytes());
        }
    }

    /** Reads {@code file} back from disk and checks it against what was written; one line per problem. */
    public List<String> readBack(Path file, FileDigest written) throws IOException {
        return new ChunkCheck(pipeline, extents).check(file.getParent(), file.getFileName().toString(), written.size(),
                written.chunks());
    }

    private static Path indexOf(Path file) {
        return file.resolveSibling(ChunkIndex.fileName(file.getFileName().toString()));
    }
}
