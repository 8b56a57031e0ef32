package io.jenkins.plugins.virtbackup.engine;

import java.time.Duration;

/** {@code shutdown} mode: a graceful shutdown before the copy, a start after it. */
final class ShutdownHold implements GuestHold {
    private static final Duration POLL = Duration.ofMillis(200);

    private final VirtualMachine vm;
    private final String name;
    private final Duration timeout;
    private final boolean forceOff;
    private final BackupLog log;
    private final RecoveryJournal journal;
    private final RecoveryJournal.Undo undo = new RecoveryJournal.Undo(RecoveryJournal.Undo.START, java.util.Map.of());
    private boolean stopped;

    ShutdownHold(VirtualMachine vm, String name, Duration timeout, boolean forceOff, BackupLog log,
                 RecoveryJournal journal) {
        this.vm = vm;
        this.name = name;
        this.timeout = timeout;
        this.forceOff = forceOff;
        this.log = log;
        this.journal = journal;
    }

    @Override
    public synchronized void hold() throws BackupException {
        try {
            Journaling.willDo(journal, undo);
            log.detail("asking domain '" + name + "' to shut down (timeout " + timeout.toSeconds() + " s)");
            stopped = true;
            vm.requestShutdown();
            if (waitForShutOff(timeout)) {
                log.detail("domain '" + name + "' is shut off");
                return;
            }
            if (!forceOff) {
                // Nothing was stopped: the guest ignored the request and still runs, which is as found.
                stopped = vm.state() != DomainState.RUNNING;
                if (!stopped) {
                    Journaling.undone(journal, undo, log);
                }
                throw new BackupException(ExitStatus.BACKUP_FAILED, "domain '" + name + "' did not shut down within "
                        + timeout.toSeconds() + " s; it was left running (see --shutdown-timeout and --force-off)");
            }
            log.warning("domain '" + name + "' did not shut down within " + timeout.toSeconds() + " s: forcing it off");
            vm.forceOff();
            if (!waitForShutOff(Duration.ofSeconds(30))) {
                throw new BackupException(ExitStatus.BACKUP_FAILED, "domain '" + name + "' could not be forced off");
            }
            log.detail("domain '" + name + "' is shut off");
        } catch (HypervisorException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED,
                    "cannot shut down domain '" + name + "': " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackupException(ExitStatus.BACKUP_FAILED, "interrupted while waiting for domain '" + name
                    + "' to shut down", e);
        }
    }

    @Override
    public synchronized void putBack() throws BackupException {
        if (!stopped) {
            return;
        }
        try {
            DomainState now = vm.state();
            if (now == DomainState.SHUT_OFF) {
                log.detail("starting domain '" + name + "' again");
                vm.start();
            } else if (now != DomainState.RUNNING) {
                throw new HypervisorException(HypervisorException.Kind.OTHER, "it is " + now.name().toLowerCase(), null);
            }
            stopped = false;
            Journaling.undone(journal, undo, log);
        } catch (HypervisorException e) {
            throw new BackupException(ExitStatus.VM_NOT_RESTORED, "domain '" + name
                    + "' was running before the backup and could not be started again: " + e.getMessage()
                    + "; start it with: virsh start " + name, e);
        }
    }

    private boolean waitForShutOff(Duration limit) throws HypervisorException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (vm.state() != DomainState.SHUT_OFF) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(POLL.toMillis());
        }
        return true;
    }
}
