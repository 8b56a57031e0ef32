package hudson.model;

import jenkins.model.Loadable;
import jenkins.util.io.OnMaster;

public abstract class Descriptor<T extends Describable<T>> implements Saveable, Loadable, OnMaster {
    protected Descriptor() {
    }

    public String getDisplayName() {
        throw new UnsupportedOperationException();
    }
}
