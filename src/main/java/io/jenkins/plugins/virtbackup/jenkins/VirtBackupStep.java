package io.jenkins.plugins.virtbackup.jenkins;

import hudson.EnvVars;
import hudson.Extension;
import hudson.FilePath;
import hudson.Launcher;
import hudson.model.Run;
import hudson.model.TaskListener;
import hudson.util.FormValidation;
import hudson.util.ListBoxModel;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jenkinsci.plugins.workflow.steps.Step;
import org.jenkinsci.plugins.workflow.steps.StepContext;
import org.jenkinsci.plugins.workflow.steps.StepDescriptor;
import org.jenkinsci.plugins.workflow.steps.StepExecution;
import org.kohsuke.stapler.DataBoundConstructor;
import org.kohsuke.stapler.DataBoundSetter;
import org.kohsuke.stapler.QueryParameter;

/**
 * Pipeline step {@code virtBackup}: the same backup as the freestyle builder, inside {@code node},
 * returning what the run's manifest says (see {@link BackupSummary#toMap}). The engine runs in its
 * own thread so the pipeline is never blocked; Groovy interpolates strings, nothing is expanded here.
 */
public class VirtBackupStep extends Step {
    private final String domain;
    private String uri;
    private List<String> disks = List.of();
    private String mode = BackupOptions.DEFAULT_MODE;
    private String level = BackupOptions.DEFAULT_LEVEL;
    private String backupDir;
    private int shutdownTimeout = BackupOptions.DEFAULT_SHUTDOWN_TIMEOUT;
    private boolean forceOff;
    private boolean verify;
    private boolean compress;
    private boolean verbose;

    @DataBoundConstructor
    public VirtBackupStep(String domain) {
        this.domain = Fields.trimToNull(domain);
    }

    public String getDomain() {
        return domain;
    }

    public String getUri() {
        return uri;
    }

    @DataBoundSetter
    public void setUri(String uri) {
        this.uri = Fields.trimToNull(uri);
    }

    public List<String> getDisks() {
        return disks;
    }

    @DataBoundSetter
    public void setDisks(List<String> disks) {
        this.disks = List.copyOf(Fields.diskNames(disks));
    }

    /** The snippet generator's form shows the disks in one text box. */
    public String getDisksText() {
        return String.join(" ", disks);
    }

    public String getMode() {
        return mode;
    }

    @DataBoundSetter
    public void setMode(String mode) {
        String value = Fields.trimToNull(mode);
        this.mode = value == null ? BackupOptions.DEFAULT_MODE : value;
    }

    public String getLevel() {
        return level;
    }

    /** full, inc, diff or auto; the engine decides what a level means in which mode. */
    @DataBoundSetter
    public void setLevel(String level) {
        String value = Fields.trimToNull(level);
        this.level = value == null ? BackupOptions.DEFAULT_LEVEL : value;
    }

    public String getBackupDir() {
        return backupDir;
    }

    @DataBoundSetter
    public void setBackupDir(String backupDir) {
        this.backupDir = Fields.trimToNull(backupDir);
    }

    public int getShutdownTimeout() {
        return shutdownTimeout;
    }

    @DataBoundSetter
    public void setShutdownTimeout(int shutdownTimeout) {
        this.shutdownTimeout = shutdownTimeout;
    }

    public boolean isForceOff() {
        return forceOff;
    }

    @DataBoundSetter
    public void setForceOff(boolean forceOff) {
        this.forceOff = forceOff;
    }

    public boolean isVerify() {
        return verify;
    }

    /** Read every written chunk back before the backup counts; off by default, as in other backup tools. */
    @DataBoundSetter
    public void setVerify(boolean verify) {
        this.verify = verify;
    }

    public boolean isCompress() {
        return compress;
    }

    /** Disks as qcow2 with zstd-compressed clusters, which QEMU reads directly; off by default. */
    @DataBoundSetter
    public void setCompress(boolean compress) {
        this.compress = compress;
    }

    public boolean isVerbose() {
        return verbose;
    }

    @DataBoundSetter
    public void setVerbose(boolean verbose) {
        this.verbose = verbose;
    }

    BackupOptions options() {
        return new BackupOptions(domain, uri, disks, mode, level, backupDir, shutdownTimeout, forceOff, verify,
                compress, verbose);
    }

    @Override
    public StepExecution start(StepContext context) {
        return new Execution(context, options());
    }

    /** Runs {@link BackupRunner} with the plain options; see {@link EngineStepExecution} for the abort. */
    static final class Execution extends EngineStepExecution {
        private static final long serialVersionUID = 1L;
        private final BackupOptions options;

        Execution(StepContext context, BackupOptions options) {
            super(context);
            this.options = options;
        }

        BackupOptions options() {
            return options;
        }

        @Override
        protected Map<String, Object> runEngine(StepContext context) throws Exception {
            return BackupRunner.run(options, context.get(Run.class), context.get(FilePath.class),
                    context.get(EnvVars.class), context.get(Launcher.class), context.get(TaskListener.class)).toMap();
        }
    }

    @Extension
    public static final class DescriptorImpl extends StepDescriptor {
        @Override
        public String getFunctionName() {
            return "virtBackup";
        }

        @Override
        public String getDisplayName() {
            return Messages.VirtBackupStep_displayName();
        }

        /** A node is needed: the engine runs where the workspace is. */
        @Override
        public Set<? extends Class<?>> getRequiredContext() {
            return Set.of(Run.class, FilePath.class, EnvVars.class, Launcher.class, TaskListener.class);
        }

        public ListBoxModel doFillModeItems() {
            return Forms.modeItems();
        }

        public ListBoxModel doFillLevelItems() {
            return Forms.levelItems();
        }

        public FormValidation doCheckDomain(@QueryParameter String value) {
            return Forms.check(Fields.domainProblem(value));
        }

        public FormValidation doCheckUri(@QueryParameter String value) {
            return Forms.check(Fields.uriProblem(value));
        }

        public FormValidation doCheckDisks(@QueryParameter String value) {
            return Forms.check(Fields.disksProblem(value));
        }

        public FormValidation doCheckBackupDir(@QueryParameter String value) {
            return Forms.check(Fields.backupDirProblem(value));
        }

        public FormValidation doCheckShutdownTimeout(@QueryParameter String value) {
            return Forms.check(Fields.shutdownTimeoutProblem(value));
        }
    }
}
