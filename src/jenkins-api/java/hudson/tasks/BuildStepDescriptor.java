package hudson.tasks;

import hudson.model.Describable;
import hudson.model.Descriptor;

public abstract class BuildStepDescriptor<T extends BuildStep & Describable<T>> extends Descriptor<T> {
    protected BuildStepDescriptor() {
    }

    /** Really {@code Class<? extends AbstractProject>}; AbstractProject is not declared here, the erasure is the same. */
    @SuppressWarnings("rawtypes")
    public abstract boolean isApplicable(Class jobType);
}
