package io.jenkins.plugins.virtbackup.engine;

/**
 * How a finished hypervisor job ended.
 *
 * @param succeeded      true when the job completed, false when it failed or was cancelled
 * @param downtimeMillis the guest's downtime the hypervisor measured, -1 when it does not say
 * @param error          the hypervisor's reason for a failure, or null
 */
public record JobResult(boolean succeeded, long downtimeMillis, String error) {
}
