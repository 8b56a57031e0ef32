package hudson.model;

import hudson.ExtensionPoint;
import hudson.security.AccessControlled;
import jenkins.console.WithConsoleUrl;
import jenkins.model.ArtifactManager;
import jenkins.model.HistoricalBuild;
import jenkins.util.io.OnMaster;
import org.kohsuke.stapler.StaplerProxy;

/** JobT unbounded here (Job is not declared); the erased signatures are the same. */
public abstract class Run<JobT, RunT extends Run<JobT, RunT>> extends Actionable implements ExtensionPoint, Comparable<RunT>,
        AccessControlled, PersistenceRoot, DescriptorByNameOwner, OnMaster, StaplerProxy, HistoricalBuild,
        WithConsoleUrl {
    /** The real constructors take a Job, which is not declared here; none is needed to compile against. */
    private Run() {
    }

    public int getNumber() {
        throw new UnsupportedOperationException();
    }

    public RunT getPreviousBuild() {
        throw new UnsupportedOperationException();
    }

    public String getUrl() {
        throw new UnsupportedOperationException();
    }

    public void addAction(Action a) {
        throw new UnsupportedOperationException();
    }

    public void setResult(Result r) {
        throw new UnsupportedOperationException();
    }

    public final ArtifactManager pickArtifactManager() throws java.io.IOException {
        throw new UnsupportedOperationException();
    }
}
