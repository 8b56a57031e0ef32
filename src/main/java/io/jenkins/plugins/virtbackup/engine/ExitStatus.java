package io.jenkins.plugins.virtbackup.engine;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The documented exit codes of {@code virt-backup}. Scripts, cron mails and the Jenkins step key on
 * these numbers, so they never change meaning; new outcomes get new numbers.
 */
public enum ExitStatus {
    /** Every requested file was written and synced (and read back, with {@code --verify}). */
    OK(0),
    /** The backup failed; the domain was left in the state it was found in. */
    BACKUP_FAILED(1),
    /** The command line was wrong: unknown option, bad value, a mode not available. */
    USAGE(2),
    /** The domain, or a disk named on the command line, does not exist. */
    NOT_FOUND(3),
    /** The hypervisor could not be reached (bad URI, daemon down, connection lost). */
    HYPERVISOR_UNREACHABLE(4),
    /** The domain could NOT be put back into the state it was found in: act now. */
    VM_NOT_RESTORED(5),
    /** Another run holds the domain's lock; nothing was done. */
    BUSY(6),
    /** {@code virt-backup verify}: a file is missing or differs from the manifest. */
    VERIFY_FAILED(7),
    /**
     * {@code --level inc} or {@code diff}: the chain of backups and checkpoints it would extend cannot
     * be trusted (a checkpoint or bitmap lost, a disk added, removed or resized, the domain redefined,
     * another kind of backup in between). Nothing was written; take a full backup, or use
     * {@code --level auto}, which does so by itself.
     */
    CHAIN_BROKEN(8),
    /**
     * {@code restore}: a domain with the restored name or UUID, or a file at a disk's destination,
     * already exists. Nothing was changed: a restore never overwrites.
     */
    RESTORE_TARGET_EXISTS(9),
    /**
     * {@code restore --test}: the restored clone showed no sign of life (it did not start, stopped, or
     * gave no proof within the timeout). The clone and its files were removed.
     */
    RESTORE_TEST_FAILED(10);

    /**
     * What a run of many domains ({@code --all}) exits with: the worst of its domains' statuses, in
     * this order, worst first. A domain not put back needs someone at once; a lost hypervisor
     * failed every domain after it; then backups that failed (or, for other commands, whose result
     * is wrong); then a chain that could not be extended (nothing written, the next full mends it);
     * then a domain another run held (that run may back it up); then a domain that vanished between
     * the listing and its turn; then a usage error; success last.
     */
    private static final List<ExitStatus> WORST_FIRST = List.of(VM_NOT_RESTORED, HYPERVISOR_UNREACHABLE,
            BACKUP_FAILED, VERIFY_FAILED, RESTORE_TEST_FAILED, CHAIN_BROKEN, RESTORE_TARGET_EXISTS, BUSY, NOT_FOUND,
            USAGE, OK);

    private final int code;

    ExitStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The worst of {@code statuses} by {@link #WORST_FIRST}; {@link #OK} when there are none. */
    public static ExitStatus worst(Collection<ExitStatus> statuses) {
        for (ExitStatus status : WORST_FIRST) {
            if (statuses.contains(status)) {
                return status;
            }
        }
        return OK;
    }

    /** The status with this exit code; empty for a code that is none of ours (a signal's 143, say). */
    public static Optional<ExitStatus> ofCode(int code) {
        for (ExitStatus status : values()) {
            if (status.code == code) {
                return Optional.of(status);
            }
        }
        return Optional.empty();
    }
}
