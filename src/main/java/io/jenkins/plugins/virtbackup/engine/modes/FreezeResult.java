package io.jenkins.plugins.virtbackup.engine.modes;

/**
 * What asking the guest agent to freeze the guest's file systems achieved.
 *
 * @param outcome whether the file systems are frozen, cannot be, or may be
 * @param reason  why they are not known to be frozen (for the log), or null when they are
 */
public record FreezeResult(Outcome outcome, String reason) {

    public enum Outcome {
        /** The agent answered: frozen. */
        FROZEN,
        /** No agent is configured or connected: nothing reached the guest, nothing is frozen. */
        NO_AGENT,
        /** The request may have reached the guest without an answer (a timeout, an error): maybe frozen. */
        UNCERTAIN
    }

    public static FreezeResult frozen() {
        return new FreezeResult(Outcome.FROZEN, null);
    }

    public static FreezeResult noAgent(String reason) {
        return new FreezeResult(Outcome.NO_AGENT, reason);
    }

    public static FreezeResult uncertain(String reason) {
        return new FreezeResult(Outcome.UNCERTAIN, reason);
    }
}
