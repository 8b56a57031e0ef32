package io.jenkins.plugins.virtbackup.engine.modes;

import io.jenkins.plugins.virtbackup.engine.BlockJobState;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import java.time.Duration;

/**
 * Merges the temporary overlay of one disk back into the image right below it, and only into that
 * one: a shallow active block commit, then a pivot once the hypervisor says it is ready. Shared by
 * the snapshot-libvirt mode and by recovery, so both merge exactly the same way.
 *
 * <p>A commit that fails ends its job without ever becoming ready; that is noticed at the next
 * poll, not after the timeout.
 */
public final class OverlayMerge {
    public static final Duration TIMEOUT = Duration.ofMinutes(10);
    private static final Duration POLL = Duration.ofMillis(20);

    private OverlayMerge() {
    }

    /**
     * Merges the active overlay of disk {@code target} down one level and switches the domain back
     * to that image. A commit an earlier attempt started and left running is waited for, not
     * started again.
     */
    public static void merge(VirtualMachine vm, String target, Duration timeout) throws HypervisorException {
        if (vm.blockJobState(target) == BlockJobState.NONE) {
            vm.beginOverlayCommit(target);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            BlockJobState state = vm.blockJobState(target);
            if (state == BlockJobState.READY) {
                vm.pivot(target);
                return;
            }
            if (state == BlockJobState.NONE) {
                throw new HypervisorException(HypervisorException.Kind.OTHER, "the block commit of " + target
                        + " ended before it was ready to pivot: it failed (libvirtd's log has QEMU's reason)", null);
            }
            if (System.nanoTime() > deadline) {
                throw new HypervisorException(HypervisorException.Kind.OTHER,
                        "block commit of " + target + " not ready within " + timeout.toSeconds() + " s", null);
            }
            sleep();
        }
    }

    private static void sleep() throws HypervisorException {
        try {
            Thread.sleep(POLL.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HypervisorException(HypervisorException.Kind.OTHER, "interrupted", e);
        }
    }
}
