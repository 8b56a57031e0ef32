package io.jenkins.plugins.virtbackup.engine.batch;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.CompletedBackup;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** How many domains are run: in order, N at a time, failures kept apart, a stop reaching every running one. */
class BatchRunTest {
    /** A domain's job whose run the test controls: it waits for {@link #release}, or for a cancel. */
    private static final class HeldJob implements BatchRun.DomainJob {
        final String domain;
        final ExitStatus failWith;
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean cancelled;
        volatile boolean closed;

        HeldJob(String domain, ExitStatus failWith) {
            this.domain = domain;
            this.failWith = failWith;
        }

        @Override
        public CompletedBackup run() throws BackupException {
            started.countDown();
            try {
                if (!release.await(30, TimeUnit.SECONDS)) {
                    throw new AssertionError("never released");
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            if (cancelled) {
                throw new BackupException(ExitStatus.BACKUP_FAILED, "backup stopped before it was complete");
            }
            if (failWith != null) {
                throw new BackupException(failWith, domain + " failed");
            }
            return null;
        }

        @Override
        public void cancel() {
            cancelled = true;
            release.countDown();
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private final Map<String, HeldJob> jobs = new ConcurrentHashMap<>();
    private final AtomicInteger runningNow = new AtomicInteger();
    private final List<Integer> concurrency = Collections.synchronizedList(new ArrayList<>());

    private HeldJob job(String domain, ExitStatus failWith) {
        HeldJob job = new HeldJob(domain, failWith);
        jobs.put(domain, job);
        return job;
    }

    @Test
    void oneFailureDoesNotStopTheOthersAndOutcomesKeepTheListedOrder() {
        BatchRun batch = new BatchRun(1, domain -> {
            HeldJob job = job(domain, domain.equals("b") ? ExitStatus.NOT_FOUND : null);
            job.release.countDown();
            return job;
        });

        List<DomainOutcome> outcomes = batch.run(List.of("a", "b", "c"));

        assertThat(outcomes).extracting(DomainOutcome::domain, DomainOutcome::status).containsExactly(
                org.assertj.core.groups.Tuple.tuple("a", ExitStatus.OK),
                org.assertj.core.groups.Tuple.tuple("b", ExitStatus.NOT_FOUND),
                org.assertj.core.groups.Tuple.tuple("c", ExitStatus.OK));
        assertThat(outcomes.get(1).error()).isEqualTo("b failed");
        assertThat(jobs.values()).allMatch(job -> job.closed);
    }

    @Test
    void neverMoreThanNAtOnce() throws Exception {
        BatchRun batch = new BatchRun(2, domain -> new BatchRun.DomainJob() {
            @Override
            public CompletedBackup run() {
                concurrency.add(runningNow.incrementAndGet());
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                runningNow.decrementAndGet();
                return null;
            }

            @Override
            public void cancel() {
            }

            @Override
            public void close() {
            }
        });

        assertThat(batch.run(List.of("a", "b", "c", "d", "e", "f"))).hasSize(6)
                .allMatch(o -> o.status() == ExitStatus.OK);

        assertThat(concurrency).hasSize(6).allMatch(n -> n <= 2).contains(2);
    }

    @Test
    void aStopCancelsEveryRunningDomainAndStartsNoOther() throws Exception {
        BatchRun batch = new BatchRun(2, domain -> job(domain, null));
        List<DomainOutcome> outcomes = new ArrayList<>();
        Thread runner = new Thread(() -> outcomes.addAll(batch.run(List.of("a", "b", "c"))));
        runner.start();
        while (jobs.size() < 2 || jobs.values().stream().anyMatch(j -> j.started.getCount() > 0)) {
            Thread.sleep(10);
        }

        batch.stop();
        runner.join(30_000);

        assertThat(jobs.keySet()).as("c never started").containsExactlyInAnyOrder("a", "b");
        assertThat(jobs.values()).allMatch(job -> job.cancelled);
        assertThat(outcomes).extracting(DomainOutcome::error).containsExactly(
                "backup stopped before it was complete", "backup stopped before it was complete",
                BatchRun.NOT_STARTED);
        assertThat(outcomes).allMatch(o -> o.status() == ExitStatus.BACKUP_FAILED);
    }
}
