package io.jenkins.plugins.virtbackup.engine.modes;

/**
 * How long the guest could not run during a backup, and who measured it: the manifest says which,
 * so that a figure the hypervisor reported is never mixed up with one taken around a call.
 *
 * @param millis     the downtime in ms, or -1 when nobody measured it
 * @param measuredBy {@link #HYPERVISOR}, {@link #HOST}, {@link #NOT_RUNNING} or {@link #UNKNOWN}
 */
public record Downtime(long millis, String measuredBy) {
    /** libvirt reported the figure (QEMU's own measure of a save or snapshot). */
    public static final String HYPERVISOR = "hypervisor";
    /**
     * virt-backup timed the calls that held the guest (a save to a restore, a snapshot call, the
     * start of a backup job). The guest may see more: QEMU can stall it around those calls.
     */
    public static final String HOST = "host";
    /** The domain was shut off: there was nothing to stop. */
    public static final String NOT_RUNNING = "not-running";
    public static final String UNKNOWN = "unknown";

    static Downtime reportedOr(long reportedMillis, long measuredNanos) {
        return reportedMillis >= 0 ? new Downtime(reportedMillis, HYPERVISOR) : measured(measuredNanos);
    }

    public static Downtime measured(long nanos) {
        return new Downtime(nanos / 1_000_000, HOST);
    }

    public static Downtime notRunning() {
        return new Downtime(0, NOT_RUNNING);
    }

    public boolean isKnown() {
        return millis >= 0;
    }

    /** For messages: {@code 120 ms} or {@code unknown}. */
    public String describe() {
        return isKnown() ? millis + " ms" : "unknown";
    }
}
