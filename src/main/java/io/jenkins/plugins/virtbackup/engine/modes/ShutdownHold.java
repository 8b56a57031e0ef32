package io.jenkins.plugins.virtbackup.engine.modes;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.recovery.Journaling;
import io.jenkins.plugins.virtbackup.engine.recovery.RecoveryJournal;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * {@code shutdown} mode: a graceful shutdown before the copy, a start after it.
 *
 * <p>A guest that was asked to shut down keeps reporting "running" while it shuts down (an ACPI
 * shutdown is the guest's own business), so "running" after the request does not mean "as found".
 * Whenever the wait for the shutdown ends early or without the guest off (the timeout passed, the
 * run was stopped by a signal, a call failed), putting back waits up to {@link #PUT_BACK_GRACE}
 * for the guest to power off and then starts it. Only a guest still running after that, once the
 * whole shutdown timeout has passed, ignored the request and is as found.
 */
public final class ShutdownHold implements GuestHold {
    private static final Duration POLL = Duration.ofMillis(200);
    /**
     * How long putting back waits for a guest still shutting down to power off, so it can be
     * started again. Long enough for a guest that only just missed the shutdown timeout, short
     * enough not to hold up a stopped run for long.
     */
    public static final Duration PUT_BACK_GRACE = Duration.ofSeconds(30);
    /** Journal detail of the start step: until when (epoch ms) the guest may still power off by itself. */
    public static final String UNTIL = "until";

    private final VirtualMachine vm;
    private final String name;
    private final Duration timeout;
    private final boolean forceOff;
    private final BackupLog log;
    private final RecoveryJournal journal;
    private final BooleanSupplier cancelled;
    private final Duration grace;
    private RecoveryJournal.Undo undo;
    /** A shutdown was asked for (or may have reached the guest): the guest may be on its way off. */
    private boolean requested;
    /** The guest was seen shut off after the request: a running guest now was started by someone else. */
    private boolean wentOff;
    /** The wait lasted the whole timeout: a guest still running after the grace ignored the request. */
    private boolean waitedOut;

    public ShutdownHold(VirtualMachine vm, String name, Duration timeout, boolean forceOff, BackupLog log,
                 RecoveryJournal journal, BooleanSupplier cancelled) {
        this(vm, name, timeout, forceOff, log, journal, cancelled, PUT_BACK_GRACE);
    }

    public ShutdownHold(VirtualMachine vm, String name, Duration timeout, boolean forceOff, BackupLog log,
                 RecoveryJournal journal, BooleanSupplier cancelled, Duration grace) {
        this.vm = vm;
        this.name = name;
        this.timeout = timeout;
        this.forceOff = forceOff;
        this.log = log;
        this.journal = journal;
        this.cancelled = cancelled;
        this.grace = grace;
    }

    @Override
    public synchronized void hold() throws BackupException {
        if (cancelled.getAsBoolean()) {
            throw stoppedWhileWaiting();
        }
        try {
            // Recovery after a kill needs to know how long the guest may still take to power off.
            long until = System.currentTimeMillis() + timeout.toMillis() + grace.toMillis();
            undo = new RecoveryJournal.Undo(RecoveryJournal.Undo.START, Map.of(UNTIL, Long.toString(until)));
            Journaling.willDo(journal, undo);
            log.detail("asking domain '" + name + "' to shut down (timeout " + timeout.toSeconds() + " s)");
            requested = true;  // before the call: a call that fails may still have reached the guest
            vm.requestShutdown();
            Wait shutdown = waitForShutOff(timeout);
            if (shutdown == Wait.CANCELLED) {
                throw stoppedWhileWaiting();
            }
            if (shutdown == Wait.SHUT_OFF) {
                wentOff = true;
                log.detail("domain '" + name + "' is shut off");
                return;
            }
            waitedOut = true;
            if (!forceOff) {
                throw new BackupException(ExitStatus.BACKUP_FAILED, "domain '" + name + "' did not shut down within "
                        + timeout.toSeconds() + " s (see --shutdown-timeout and --force-off)");
            }
            log.warning("domain '" + name + "' did not shut down within " + timeout.toSeconds() + " s: forcing it off");
            vm.forceOff();
            if (waitForShutOff(Duration.ofSeconds(30)) != Wait.SHUT_OFF) {
                throw new BackupException(ExitStatus.BACKUP_FAILED, "domain '" + name + "' could not be forced off");
            }
            wentOff = true;
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

    private BackupException stoppedWhileWaiting() {
        return new BackupException(ExitStatus.BACKUP_FAILED, "backup stopped while waiting for domain '" + name
                + "' to shut down");
    }

    @Override
    public synchronized void putBack() throws BackupException {
        if (!requested) {
            return;
        }
        try {
            DomainState now = vm.state();
            if (!wentOff && now != DomainState.SHUT_OFF && now != DomainState.PAUSED) {
                log.warning("domain '" + name + "' is still shutting down: waiting up to " + grace.toSeconds()
                        + " s to start it again");
                now = awaitPowerOff(vm, grace);
            }
            if (now == DomainState.SHUT_OFF) {
                log.detail("starting domain '" + name + "' again");
                vm.start();
                log.detail("domain '" + name + "' started again");
            } else if (now != DomainState.RUNNING) {
                throw new HypervisorException(HypervisorException.Kind.OTHER, "it is " + now.name().toLowerCase(), null);
            } else if (!wentOff && !waitedOut) {
                keepForRecovery();
                return;
            } else if (!wentOff) {
                log.warning("domain '" + name + "' ignored the shutdown request: it was left running, as found");
            }
            requested = false;
            Journaling.undone(journal, undo, log);
        } catch (HypervisorException e) {
            throw new BackupException(ExitStatus.VM_NOT_RESTORED, "domain '" + name
                    + "' was running before the backup and could not be started again: " + e.getMessage()
                    + "; start it with: virsh start " + name, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackupException(ExitStatus.VM_NOT_RESTORED, "interrupted while waiting for domain '" + name
                    + "' to power off; if it is shut off, start it with: virsh start " + name, e);
        }
    }

    /**
     * The run stopped before the shutdown timeout passed and the guest still runs: it may yet power
     * off. The journal keeps the start step, so the next run or {@code virt-backup recover} starts it then.
     */
    private void keepForRecovery() {
        requested = false;
        log.warning("domain '" + name + "' still runs " + grace.toSeconds() + " s after the run stopped; if it"
                + " powers off later, 'virt-backup recover' (or the next run) starts it again");
    }

    /**
     * Waits, uncancelled, while the guest runs or is shutting down, at most {@code limit}; returns
     * its state then. Recovery waits the same way for a guest a dead run asked to shut down.
     */
    public static DomainState awaitPowerOff(VirtualMachine vm, Duration limit)
            throws HypervisorException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        DomainState now;
        while ((now = vm.state()) == DomainState.RUNNING || now == DomainState.OTHER) {
            if (System.nanoTime() >= deadline) {
                return now;
            }
            Thread.sleep(POLL.toMillis());
        }
        return now;
    }

    private enum Wait { SHUT_OFF, TIMED_OUT, CANCELLED }

    private Wait waitForShutOff(Duration limit) throws HypervisorException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (vm.state() != DomainState.SHUT_OFF) {
            if (cancelled.getAsBoolean()) {
                return Wait.CANCELLED;
            }
            if (System.nanoTime() >= deadline) {
                return Wait.TIMED_OUT;
            }
            Thread.sleep(POLL.toMillis());
        }
        return Wait.SHUT_OFF;
    }
}
