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
import java.util.ArrayList;
import java.util.List;
import jenkins.tasks.SimpleBuildStep;
import org.jenkinsci.Symbol;
import org.kohsuke.stapler.DataBoundConstructor;
import org.kohsuke.stapler.DataBoundSetter;
import org.kohsuke.stapler.QueryParameter;

/**
 * Freestyle build step: backs up one domain on the node the build runs on. Configuration and
 * validation only; {@link BackupRunner} does the work, the same way as for the pipeline step.
 * Text fields may use build variables ({@code ${VM}}); they are expanded before the run.
 */
public class VirtBackupBuilder extends Builder implements SimpleBuildStep {
    private final String domain;
    private String uri;
    private ArrayList<String> disks;
    private String mode = BackupOptions.DEFAULT_MODE;
    private String level = BackupOptions.DEFAULT_LEVEL;
    private String backupDir;
    private int shutdownTimeout = BackupOptions.DEFAULT_SHUTDOWN_TIMEOUT;
    private boolean forceOff;
    private boolean verify;
    private boolean compress;
    private boolean verbose;

    @DataBoundConstructor
    public VirtBackupBuilder(String domain) {
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
        return disks == null ? List.of() : List.copyOf(disks);
    }

    @DataBoundSetter
    public void setDisks(List<String> disks) {
        List<String> names = Fields.diskNames(disks);
        this.disks = names.isEmpty() ? null : new ArrayList<>(names);
    }

    /** The form shows the disks in one text box. */
    public String getDisksText() {
        return String.join(" ", getDisks());
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

    /**
     * A {@code config.xml} that leaves fields out (written by hand, by a tool, or by an older version)
     * loads them with the form's defaults: the loader sets fields without running the constructor.
     * A shutdown timeout of 0 is never valid, so it is read as "not given".
     */
    private Object readResolve() {
        if (Fields.trimToNull(mode) == null) {
            mode = BackupOptions.DEFAULT_MODE;
        }
        if (Fields.trimToNull(level) == null) {
            level = BackupOptions.DEFAULT_LEVEL;
        }
        if (shutdownTimeout == 0) {
            shutdownTimeout = BackupOptions.DEFAULT_SHUTDOWN_TIMEOUT;
        }
        return this;
    }

    BackupOptions options() {
        return new BackupOptions(domain, uri, getDisks(), mode, level, backupDir, shutdownTimeout, forceOff, verify,
                compress, verbose);
    }

    @Override
    public void perform(Run<?, ?> run, FilePath workspace, EnvVars env, Launcher launcher, TaskListener listener)
            throws InterruptedException, IOException {
        BackupRunner.run(options().expand(env::expand), run, workspace, env, launcher, listener);
    }

    @Extension
    @Symbol("virtBackup")
    public static final class DescriptorImpl extends BuildStepDescriptor<Builder> {
        /** Every kind of project; raw type as in the real signature's erasure (AbstractProject is not declared). */
        @Override
        @SuppressWarnings("rawtypes")
        public boolean isApplicable(Class jobType) {
            return true;
        }

        @Override
        public String getDisplayName() {
            return Messages.VirtBackupBuilder_displayName();
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
