package io.jenkins.plugins.virtbackup.engine.batch;

import io.jenkins.plugins.virtbackup.engine.CompletedBackup;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import java.time.Duration;

/**
 * How one domain's backup ended within a run of many.
 *
 * @param backup   the complete backup; null when the domain's run failed
 * @param error    the one-line reason it failed, as its log said it; null when it completed
 * @param duration from the domain's start to its end (zero for a domain never started)
 */
public record DomainOutcome(String domain, ExitStatus status, CompletedBackup backup, String error,
                            Duration duration) {

    static DomainOutcome complete(String domain, CompletedBackup backup, Duration duration) {
        return new DomainOutcome(domain, ExitStatus.OK, backup, null, duration);
    }

    static DomainOutcome failed(String domain, ExitStatus status, String error, Duration duration) {
        return new DomainOutcome(domain, status, null, error, duration);
    }
}
