package io.jenkins.plugins.virtbackup.engine.batch;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.CompletedBackup;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Backs up many domains, each by a run of its own ({@link DomainJob}: its own engine, lock, backup
 * directory and log), at most {@code parallel} at a time. One domain's failure never stops the
 * others; {@link #stop} (a signal) puts every domain being backed up back at once and starts no
 * further one.
 */
public final class BatchRun {
    /** Why a domain that never started has no backup. */
    static final String NOT_STARTED = "not started: the run was stopped";

    /** One domain's backup, made for it just before it starts. */
    public interface DomainJob {
        /**
         * Runs the backup.
         *
         * @throws BackupException its reason and exit status, already logged
         */
        CompletedBackup run() throws BackupException;

        /** Puts the domain back at once (from another thread) and reports a failure to do so itself. */
        void cancel();

        /** Ends the job's log; runs after {@link #run}, whatever happened. */
        void close();
    }

    private final int parallel;
    private final Function<String, DomainJob> jobs;
    /** The jobs running now, and whether the run was stopped; guarded by this. */
    private final Set<DomainJob> running = new LinkedHashSet<>();
    private boolean stopped;

    /**
     * @param parallel how many domains are backed up at once, at least 1
     * @param jobs     makes the job of one domain
     */
    public BatchRun(int parallel, Function<String, DomainJob> jobs) {
        if (parallel < 1) {
            throw new IllegalArgumentException("parallel must be at least 1, not " + parallel);
        }
        this.parallel = parallel;
        this.jobs = jobs;
    }

    /** Backs up each domain and returns how each ended, in the order given. */
    public List<DomainOutcome> run(List<String> domains) {
        AtomicInteger threads = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallel, Math.max(1, domains.size())), task -> {
            Thread thread = new Thread(task, "virt-backup-domain-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        try {
            List<Future<DomainOutcome>> futures = new ArrayList<>();
            for (String domain : domains) {
                futures.add(pool.submit(() -> backUp(domain)));
            }
            List<DomainOutcome> outcomes = new ArrayList<>();
            for (int i = 0; i < domains.size(); i++) {
                outcomes.add(await(futures.get(i), domains.get(i)));
            }
            return outcomes;
        } finally {
            pool.shutdown();
        }
    }

    private static DomainOutcome await(Future<DomainOutcome> future, String domain) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return future.get();
                } catch (InterruptedException e) {
                    // The job is running and must finish putting its domain back: wait on, then re-interrupt.
                    interrupted = true;
                } catch (ExecutionException e) {
                    return DomainOutcome.failed(domain, ExitStatus.BACKUP_FAILED, "internal error: " + e.getCause(),
                            Duration.ZERO);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private DomainOutcome backUp(String domain) {
        long start = System.nanoTime();
        DomainJob job;
        synchronized (this) {
            if (stopped) {
                return DomainOutcome.failed(domain, ExitStatus.BACKUP_FAILED, NOT_STARTED, Duration.ZERO);
            }
            job = jobs.apply(domain);
            running.add(job);
        }
        try {
            CompletedBackup backup = job.run();
            return DomainOutcome.complete(domain, backup, since(start));
        } catch (BackupException e) {
            return DomainOutcome.failed(domain, e.status(), e.getMessage(), since(start));
        } catch (RuntimeException e) {
            return DomainOutcome.failed(domain, ExitStatus.BACKUP_FAILED, "internal error: " + e, since(start));
        } finally {
            synchronized (this) {
                running.remove(job);
            }
            job.close();
        }
    }

    private static Duration since(long start) {
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /**
     * Stops the run (from a signal handler): no domain starts any more, and every running job puts
     * its domain back, all at once, each in a thread of its own; returns when all have.
     */
    public void stop() {
        List<DomainJob> toCancel;
        synchronized (this) {
            stopped = true;
            toCancel = new ArrayList<>(running);
        }
        List<Thread> cancelling = new ArrayList<>();
        for (DomainJob job : toCancel) {
            Thread thread = new Thread(job::cancel, "virt-backup-stop");
            thread.start();
            cancelling.add(thread);
        }
        for (Thread thread : cancelling) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
