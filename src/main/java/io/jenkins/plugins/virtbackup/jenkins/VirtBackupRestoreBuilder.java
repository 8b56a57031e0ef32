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
import java.io.IOException;
import jenkins.tasks.SimpleBuildStep;
import org.jenkinsci.Symbol;
import org.kohsuke.stapler.DataBoundConstructor;
import org.kohsuke.stapler.DataBoundSetter;
import org.kohsuke.stapler.QueryParameter;

/**
 * Freestyle build step: restores one backup on the node the build runs on. Configuration and
 * validation only; {@link RestoreRunner} does the work, as for the pipeline step
 * {@code virtBackupRestore}. Text fields may use build variables ({@code ${BACKUP}}); they are
 * expanded before the run.
 */
public class VirtBackupRestoreBuilder extends Builder implements SimpleBuildStep {
    private final String backup;
    private String uri;
    private String name;
    private String diskDir;
    private boolean start;
    private boolean verbose;
    private String stateDir;
    private String errorLog;

    @DataBoundConstructor
    public VirtBackupRestoreBuilder(String backup) {
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

    public String getName() {
        return name;
    }

    /** Empty: the domain as it was (disaster recovery); else a copy by this name, with a new UUID and MACs. */
    @DataBoundSetter
    public void setName(String name) {
        this.name = Fields.trimToNull(name);
    }

    public String getDiskDir() {
        return diskDir;
    }

    @DataBoundSetter
    public void setDiskDir(String diskDir) {
        this.diskDir = Fields.trimToNull(diskDir);
    }

    public boolean isStart() {
        return start;
    }

    @DataBoundSetter
    public void setStart(boolean start) {
        this.start = start;
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

    RestoreOptions options() {
        return RestoreOptions.restore(backup, uri, name, diskDir, start, verbose).withNodePaths(stateDir, errorLog);
    }

    @Override
    public void perform(Run<?, ?> run, FilePath workspace, EnvVars env, Launcher launcher, TaskListener listener)
            throws InterruptedException, IOException {
        RestoreRunner.run(options().expand(env::expand), workspace, env, launcher, listener);
    }

    /** Its own symbol: {@code virtBackupRestore} is the pipeline step's name. */
    @Extension
    @Symbol("virtBackupRestoreBuilder")
    public static final class DescriptorImpl extends BuildStepDescriptor<Builder> {
        /** Every kind of project; raw type as in the real signature's erasure (AbstractProject is not declared). */
        @Override
        @SuppressWarnings("rawtypes")
        public boolean isApplicable(Class jobType) {
            return true;
        }

        @Override
        public String getDisplayName() {
            return Messages.VirtBackupRestoreBuilder_displayName();
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

        public FormValidation doCheckUri(@QueryParameter String value) {
            return Forms.check(Fields.uriProblem(value));
        }

        public FormValidation doCheckName(@QueryParameter String value) {
            return Forms.check(Fields.nameProblem(value));
        }

        public FormValidation doCheckDiskDir(@QueryParameter String value) {
            return Forms.check(Fields.diskDirProblem(value));
        }
    }
}
