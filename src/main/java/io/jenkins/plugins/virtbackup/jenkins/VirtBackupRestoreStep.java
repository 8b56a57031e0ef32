package io.jenkins.plugins.virtbackup.jenkins;

import hudson.EnvVars;
import hudson.Extension;
import hudson.FilePath;
import hudson.Launcher;
import hudson.model.TaskListener;
import hudson.util.FormValidation;
import java.util.Set;
import org.jenkinsci.plugins.workflow.steps.Step;
import org.jenkinsci.plugins.workflow.steps.StepContext;
import org.jenkinsci.plugins.workflow.steps.StepDescriptor;
import org.jenkinsci.plugins.workflow.steps.StepExecution;
import org.kohsuke.stapler.DataBoundConstructor;
import org.kohsuke.stapler.DataBoundSetter;
import org.kohsuke.stapler.QueryParameter;

/**
 * Pipeline step {@code virtBackupRestore}: restores one backup on the node of the enclosing
 * {@code node}, as the freestyle builder does, and returns what the engine's result file says (see
 * {@link RestoreSummary#ofRestore}). Groovy interpolates strings; nothing is expanded here.
 */
public class VirtBackupRestoreStep extends Step {
    private final String backup;
    private String uri;
    private String name;
    private String diskDir;
    private boolean start;
    private boolean verbose;
    private String stateDir;
    private String errorLog;

    @DataBoundConstructor
    public VirtBackupRestoreStep(String backup) {
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
    public StepExecution start(StepContext context) {
        return new RestoreStepExecution(context, options());
    }

    @Extension
    public static final class DescriptorImpl extends StepDescriptor {
        @Override
        public String getFunctionName() {
            return "virtBackupRestore";
        }

        @Override
        public String getDisplayName() {
            return Messages.VirtBackupRestoreStep_displayName();
        }

        /** A node is needed: the engine runs where the workspace is. */
        @Override
        public Set<? extends Class<?>> getRequiredContext() {
            return Set.of(FilePath.class, EnvVars.class, Launcher.class, TaskListener.class);
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
