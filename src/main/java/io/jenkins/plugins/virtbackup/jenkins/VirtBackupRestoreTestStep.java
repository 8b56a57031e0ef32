package io.jenkins.plugins.virtbackup.jenkins;

import hudson.EnvVars;
import hudson.Extension;
import hudson.FilePath;
import hudson.Launcher;
import hudson.model.TaskListener;
import hudson.util.FormValidation;
import hudson.util.ListBoxModel;
import java.util.Set;
import org.jenkinsci.plugins.workflow.steps.Step;
import org.jenkinsci.plugins.workflow.steps.StepContext;
import org.jenkinsci.plugins.workflow.steps.StepDescriptor;
import org.jenkinsci.plugins.workflow.steps.StepExecution;
import org.kohsuke.stapler.DataBoundConstructor;
import org.kohsuke.stapler.DataBoundSetter;
import org.kohsuke.stapler.QueryParameter;

/**
 * Pipeline step {@code virtBackupRestoreTest}: proves that one backup boots, on the node of the
 * enclosing {@code node}, by restoring a temporary clone without network, waiting for proof of life
 * and removing it again. Returns what the test found (see {@link RestoreSummary#ofTest}); a test
 * that saw no life fails the step. Groovy interpolates strings; nothing is expanded here.
 */
public class VirtBackupRestoreTestStep extends Step {
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
    public VirtBackupRestoreTestStep(String backup) {
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

    RestoreOptions options() {
        return RestoreOptions.test(backup, uri, diskDir, timeout, consolePattern, verbose).withProof(proof)
                .withNodePaths(stateDir, errorLog);
    }

    @Override
    public StepExecution start(StepContext context) {
        return new RestoreStepExecution(context, options());
    }

    @Extension
    public static final class DescriptorImpl extends StepDescriptor {
        @Override
        public String getFunctionName() {
            return "virtBackupRestoreTest";
        }

        @Override
        public String getDisplayName() {
            return Messages.VirtBackupRestoreTestStep_displayName();
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
