package io.jenkins.plugins.virtbackup.engine.restore;

import java.util.Locale;

/**
 * What a restore test accepts as proof that the restored guest lives, strongest first. The test
 * holds a clone to the strongest criterion its definition allows.
 */
public enum LifeProof {
    /** The guest agent answered {@code guest-ping}: the guest's user space runs. Needs an agent channel. */
    AGENT,
    /**
     * The guest wrote a line to its first serial port (one matching {@code --console-pattern} when
     * given): its kernel or boot loader runs. Needs a serial port.
     */
    CONSOLE,
    /**
     * The domain was still running when the timeout ended. Weak: it proves that the hypervisor
     * could start the clone, not that its disks boot.
     */
    RUNNING;

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
