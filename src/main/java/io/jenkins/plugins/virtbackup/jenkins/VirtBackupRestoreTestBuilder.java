package io.jenkins.plugins.virtbackup.jenkins;

import hudson.EnvVars;
import hudson.Extension;
import hudson.FilePath;
import hudson.Launcher;
import hudson.model.Run;
import hudson.model.TaskListener;
import hudson.tasks.BuildStepDescriptor;
import hudson.tasks.Builder;
import hudson.util.FormValidation;
import hudson.util.ListBoxModel;
import java.io.IOException;
import jenkins.tasks.SimpleBuildStep;
import org.jenkinsci.Symbol;
import org.kohsuke.stapler.DataBoundConstructor;
import org.kohsuke.stapler.DataBoundSetter;
import org.kohsuke.stapler.QueryParameter;

/**
 * Freestyle build step: proves that one backup boots, on the node the build runs on, by restoring a
 * temporary clone without network, waiting for proof of life and removing it again; a test that saw
 * no life fails the build. Configuration and validation only; {@link RestoreRunner} does the work, as
 * for the pipeline step {@code virtBackupRestoreTest}. Text fields may use build variables; they are
 * expanded before the run.
 */
public class VirtBackupRestoreTestBuilder extends Builder implements SimpleBuildStep {
    private final String backup;
    private String uri;
    private String diskDir;
    private int timeout = RestoreOptions.DEFAULT_TIMEOUT;
    private String consolePattern;
    private boolean verbose;
    private String stateDir;
    private String errorLog;
    private String proof;

    @DataBoundConstructor
    public VirtBackupRestoreTestBuilder(String backup) {
        this.backup = Fields.trimToNull(backup);
    }

    public String getBackup() {
        return backup;
    }

    public String getUri() {
        return uri;
    }

    @DataBoundSetter
    public void setUri(String uri) {
        this.uri = Fields.trimToNull(uri);
    }

    public String getDiskDir() {
        return diskDir;
    }

    /** Where the clone's scratch folder goes; empty for the engine's own choice. */
    @DataBoundSetter
    public void setDiskDir(String diskDir) {
        this.diskDir = Fields.trimToNull(diskDir);
    }

    public int getTimeout() {
        return timeout;
    }

    @DataBoundSetter
    public void setTimeout(int timeout) {
        this.timeout = timeout;
    }

    public String getConsolePattern() {
        return consolePattern;
    }

    /** Kept as given (blanks can be part of what it looks for); empty for none. */
    @DataBoundSetter
    public void setConsolePattern(String consolePattern) {
        this.consolePattern = consolePattern == null || consolePattern.isEmpty() ? null : consolePattern;
    }

    public String getProof() {
        return proof;
    }

    /** agent, console or running; empty for the strongest the clone's definition allows. */
    @DataBoundSetter
    public void setProof(String proof) {
        this.proof = Fields.trimToNull(proof);
    }

    public String getStateDir() {
        return stateDir;
    }

    /** The engine's state directory; empty for the node's {@code VIRT_BACKUP_STATE_DIR} or default. */
    @DataBoundSetter
    public void setStateDir(String stateDir) {
        this.stateDir = Fields.trimToNull(stateDir);
    }

    public String getErrorLog() {
        return errorLog;
    }

    /** Where libvirt's and qemu-img's error reports go; empty for a file in the backup's root. */
    @DataBoundSetter
    public void setErrorLog(String errorLog) {
        this.errorLog = Fields.trimToNull(errorLog);
    }

    public boolean isVerbose() {
        return verbose;
    }

    @DataBoundSetter
    public void setVerbose(boolean verbose) {
        this.verbose = verbose;
    }

    /**
     * A {@code config.xml} that leaves the timeout out loads it as 0, which is never valid: it is read
     * as "not given". (The loader sets fields without running the constructor.)
     */
    private Object readResolve() {
        if (timeout == 0) {
            timeout = RestoreOptions.DEFAULT_TIMEOUT;
        }
        return this;
    }

    RestoreOptions options() {
        return RestoreOptions.test(backup, uri, diskDir, timeout, consolePattern, verbose).withProof(proof)
                .withNodePaths(stateDir, errorLog);
    }

    @Override
    public void perform(Run<?, ?> run, FilePath workspace, EnvVars env, Launcher launcher, TaskListener listener)
            throws InterruptedException, IOException {
        RestoreRunner.run(options().expand(env::expand), workspace, env, launcher, listener);
    }

    /** Its own symbol: {@code virtBackupRestoreTest} is the pipeline step's name. */
    @Extension
    @Symbol("virtBackupRestoreTestBuilder")
    public static final class DescriptorImpl extends BuildStepDescriptor<Builder> {
        /** Every kind of project; raw type as in the real signature's erasure (AbstractProject is not declared). */
        @Override
        @SuppressWarnings("rawtypes")
        public boolean isApplicable(Class jobType) {
            return true;
        }

        @Override
        public String getDisplayName() {
            return Messages.VirtBackupRestoreTestBuilder_displayName();
        }

        public FormValidation doCheckBackup(@QueryParameter String value) {
            return Forms.check(Fields.backupProblem(value));
        }

        public FormValidation doCheckStateDir(@QueryParameter String value) {
            return Forms.check(Fields.stateDirProblem(value));
        }

        public FormValidation doCheckErrorLog(@QueryParameter String value) {
            return Forms.check(Fields.errorLogProblem(value));
        }

        public ListBoxModel doFillProofItems() {
            return Forms.proofItems();
        }

        public FormValidation doCheckUri(@QueryParameter String value) {
            return Forms.check(Fields.uriProblem(value));
        }

        public FormValidation doCheckDiskDir(@QueryParameter String value) {
            return Forms.check(Fields.diskDirProblem(value));
        }

        public FormValidation doCheckTimeout(@QueryParameter String value) {
            return Forms.check(Fields.timeoutProblem(value));
        }

        public FormValidation doCheckConsolePattern(@QueryParameter String value) {
            return Forms.check(Fields.consolePatternProblem(value));
        }
    }
}
