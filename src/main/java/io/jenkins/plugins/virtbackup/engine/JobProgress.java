package io.jenkins.plugins.virtbackup.engine;

/**
 * A hypervisor job's progress.
 *
 * @param active    false once the job has ended (or none runs)
 * @param processed bytes done
 * @param total     bytes to do, 0 when not known yet
 */
public record JobProgress(boolean active, long processed, long total) {
}
