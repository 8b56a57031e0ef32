package io.jenkins.plugins.virtbackup.engine;

/**
 * A hypervisor call failed. The adapter translates its native errors into this, so the engine can
 * tell "no such domain" and "hypervisor gone" apart from any other failure without knowing libvirt.
 */
public class HypervisorException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What kind of failure this was, as far as the engine's decisions go. */
    public enum Kind { NOT_FOUND, UNREACHABLE, UNSUPPORTED, OTHER }

    private final Kind kind;

    public HypervisorException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
