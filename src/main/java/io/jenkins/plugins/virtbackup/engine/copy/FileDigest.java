package io.jenkins.plugins.virtbackup.engine.copy;

/**
 * What a copy wrote, or what a re-read found.
 *
 * @param size   logical size in bytes (holes count)
 * @param sha256 lowercase hex SHA-256 of the full logical content
 */
public record FileDigest(long size, String sha256) {
}
