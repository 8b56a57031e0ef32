package io.jenkins.plugins.virtbackup.engine.copy;

/**
 * What a copy wrote, or what indexing a file found.
 *
 * @param size   logical size in bytes (holes count)
 * @param chunks its chunk index, as the manifest refers to it
 */
public record FileDigest(long size, ChunkIndex.Ref chunks) {
}
