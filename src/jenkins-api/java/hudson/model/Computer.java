package hudson.model;

import hudson.security.AccessControlled;
import jenkins.model.IComputer;
import jenkins.widgets.HasWidgets;
import org.kohsuke.stapler.StaplerProxy;

public abstract class Computer extends Actionable
        implements AccessControlled, ExecutorListener, DescriptorByNameOwner, StaplerProxy, HasWidgets, IComputer {
    protected Computer(Node node) {
    }

    public Node getNode() {
        throw new UnsupportedOperationException();
    }
}
