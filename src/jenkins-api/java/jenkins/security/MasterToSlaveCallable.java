package jenkins.security;

import jenkins.agents.ControllerToAgentCallable;

public abstract class MasterToSlaveCallable<V, T extends Throwable> implements ControllerToAgentCallable<V, T> {
    public MasterToSlaveCallable() {
    }
}
