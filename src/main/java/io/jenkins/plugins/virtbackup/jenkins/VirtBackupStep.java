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
 * returning what the run's manifest says (see {@link BackupSummary#toMap}); for a list of domains or
 * all of them, a map keyed by domain of such maps, a failed domain's as {@link BackupRunner#failedMap}.
 * The engine runs in its own thread so the pipeline is never blocked; Groovy interpolates strings,
 * nothing is expanded here.
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
    private List<String> domains = List.of();
    private boolean allDomains;
    private List<String> excludes = List.of();
    private int parallel = 1;
    private boolean unstableOnFailure;
    private BackupRetention retention;
    private boolean quiesce;
    private String snapshotSize;
    private String overlayDir;
    private String stateDir;
    private String errorLog;

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

    public boolean isQuiesce() {
        return quiesce;
    }

    /** Freeze the guest's file systems through its agent for the point in time; the live modes only. */
    @DataBoundSetter
    public void setQuiesce(boolean quiesce) {
        this.quiesce = quiesce;
    }

    public String getSnapshotSize() {
        return snapshotSize;
    }

    /**
     * In snapshot-dm mode, the room of each LVM snapshot, e.g. {@code 2G}; empty for the engine's
     * default (the volume's size, or an equal share of its volume group's free space when less).
     */
    @DataBoundSetter
    public void setSnapshotSize(String snapshotSize) {
        this.snapshotSize = Fields.trimToNull(snapshotSize);
    }

    public String getOverlayDir() {
        return overlayDir;
    }

    /** Where snapshot-libvirt mode puts its temporary overlays; empty for the engine's state directory. */
    @DataBoundSetter
    public void setOverlayDir(String overlayDir) {
        this.overlayDir = Fields.trimToNull(overlayDir);
    }

    public String getStateDir() {
        return stateDir;
    }

    /** The engine's locks and recovery journals; empty for the node's {@code VIRT_BACKUP_STATE_DIR} or default. */
    @DataBoundSetter
    public void setStateDir(String stateDir) {
        this.stateDir = Fields.trimToNull(stateDir);
    }

    public String getErrorLog() {
        return errorLog;
    }

    /** Where libvirt's and the tools' error reports go; empty for a file in the backup directory. */
    @DataBoundSetter
    public void setErrorLog(String errorLog) {
        this.errorLog = Fields.trimToNull(errorLog);
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

    public List<String> getDomains() {
        return domains;
    }

    /** Several domains, one engine run each, in order; split at blanks and commas like the disks. */
    @DataBoundSetter
    public void setDomains(List<String> domains) {
        this.domains = List.copyOf(Fields.diskNames(domains));
    }

    /** The form shows the domains in one text box. */
    public String getDomainsText() {
        return String.join(" ", getDomains());
    }

    public boolean isAllDomains() {
        return allDomains;
    }

    /** Every domain of the hypervisor, in one engine run ({@code --all}). */
    @DataBoundSetter
    public void setAllDomains(boolean allDomains) {
        this.allDomains = allDomains;
    }

    public List<String> getExcludes() {
        return excludes;
    }

    /** With all domains: shell-style patterns ({@code *}, {@code ?}) of domain names to leave out. */
    @DataBoundSetter
    public void setExcludes(List<String> excludes) {
        this.excludes = List.copyOf(Fields.diskNames(excludes));
    }

    /** The form shows the patterns in one text box. */
    public String getExcludesText() {
        return String.join(" ", getExcludes());
    }

    public int getParallel() {
        return parallel;
    }

    /** With all domains: how many are backed up at once. */
    @DataBoundSetter
    public void setParallel(int parallel) {
        this.parallel = parallel;
    }

    public boolean isUnstableOnFailure() {
        return unstableOnFailure;
    }

    /** With several or all domains: failed ones make the build UNSTABLE instead of FAILURE. */
    @DataBoundSetter
    public void setUnstableOnFailure(boolean unstableOnFailure) {
        this.unstableOnFailure = unstableOnFailure;
    }

    /** The optional retention: prune the domain's backups after each successful backup. */
    public BackupRetention getRetention() {
        return retention;
    }

    @DataBoundSetter
    public void setRetention(BackupRetention retention) {
        this.retention = retention;
    }

    BackupOptions options() {
        return new BackupOptions(domain, uri, disks, mode, level, backupDir, shutdownTimeout, forceOff, verify,
                compress, verbose).withDomains(domains, allDomains, excludes, parallel, unstableOnFailure)
                .withRetention(retention).withQuiesce(quiesce).withSnapshotSize(snapshotSize)
                .withNodePaths(overlayDir, stateDir, errorLog);
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

        @Override
        BackupOptions options() {
            return options;
        }

        @Override
        protected Map<String, Object> runEngine(StepContext context) throws Exception {
            if (options.isMany()) {
                return BackupRunner.runMany(options, context.get(Run.class), context.get(FilePath.class),
                        context.get(EnvVars.class), context.get(Launcher.class), context.get(TaskListener.class));
            }
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

        /** An unknown mode; quiesce or an overlay directory the mode does not use (a warning). */
        public FormValidation doCheckMode(@QueryParameter String value, @QueryParameter boolean quiesce,
                                          @QueryParameter String overlayDir) {
            return Forms.checkMode(value, quiesce, overlayDir);
        }

        /** Not a size, or 0; a warning when the mode takes no snapshots (the step then leaves it out). */
        public FormValidation doCheckSnapshotSize(@QueryParameter String value, @QueryParameter String mode) {
            return Forms.checkSnapshotSize(value, mode);
        }

        public FormValidation doCheckOverlayDir(@QueryParameter String value) {
            return Forms.check(Fields.overlayDirProblem(value));
        }

        public FormValidation doCheckStateDir(@QueryParameter String value) {
            return Forms.check(Fields.stateDirProblem(value));
        }

        public FormValidation doCheckErrorLog(@QueryParameter String value) {
            return Forms.check(Fields.errorLogProblem(value));
        }

        /** The domain is required unless a list of domains or all domains are asked for instead. */
        public FormValidation doCheckDomain(@QueryParameter String value, @QueryParameter String domains,
                                            @QueryParameter boolean allDomains) {
            return Forms.checkDomain(value, domains, allDomains);
        }

        public FormValidation doCheckDomains(@QueryParameter String value) {
            return Forms.check(Fields.domainsProblem(value));
        }

        public FormValidation doCheckExcludes(@QueryParameter String value) {
            return Forms.check(Fields.excludesProblem(value));
        }

        public FormValidation doCheckParallel(@QueryParameter String value) {
            return Forms.check(Fields.parallelProblem(value));
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
