package io.jenkins.plugins.virtbackup.engine.copy;

/**
 * What a copy wrote, or what indexing a file found.
 *
 * @param size      logical size in bytes (holes count)
 * @param chunks    its chunk index, as the manifest refers to it
 * @param dataBytes the bytes read as data: for a copy, the source's data extents (holes are skipped, never
 *                  read); for a file indexed after another program wrote it, the file's own data extents.
 *                  -1 when not known (a digest rebuilt from an older manifest)
 */
public record FileDigest(long size, ChunkIndex.Ref chunks, long dataBytes) {

    /** A digest whose data bytes nobody counted. */
    public FileDigest(long size, ChunkIndex.Ref chunks) {
        this(size, chunks, -1);
    }
}
