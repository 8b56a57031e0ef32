package io.jenkins.plugins.virtbackup.engine.copy;

/**
 * A stretch of a source: data to read, or a hole, which reads as zeros and is never read.
 *
 * @param offset where it starts, in bytes
 * @param length how long it is, in bytes (more than 0)
 * @param data   false for a hole
 */
public record Extent(long offset, long length, boolean data) {
    public long end() {
        return offset + length;
    }
}
