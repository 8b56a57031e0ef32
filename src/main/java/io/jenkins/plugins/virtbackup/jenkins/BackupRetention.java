package io.jenkins.plugins.virtbackup.jenkins;

import hudson.Extension;
import hudson.model.AbstractDescribableImpl;
import hudson.model.Descriptor;
import hudson.util.FormValidation;
import io.jenkins.plugins.virtbackup.engine.retention.RetentionPolicy;
import java.io.Serializable;
import java.util.List;
import org.kohsuke.stapler.DataBoundConstructor;
import org.kohsuke.stapler.DataBoundSetter;
import org.kohsuke.stapler.QueryParameter;

/**
 * The backup step's optional retention ({@code --keep-*}): after a successful backup the domain's
 * backups are pruned by these counts. One describable, so that the freestyle builder and the
 * pipeline step share its form and its help ({@code retention: [keepDaily: 7, keepWeekly: 4]}).
 */
public class BackupRetention extends AbstractDescribableImpl<BackupRetention> implements Serializable {
    private static final long serialVersionUID = 1L;

    private int keepLast;
    private int keepHourly;
    private int keepDaily;
    private int keepWeekly;
    private int keepMonthly;
    private int keepYearly;

    @DataBoundConstructor
    public BackupRetention() {
    }

    public int getKeepLast() {
        return keepLast;
    }

    @DataBoundSetter
    public void setKeepLast(int keepLast) {
        this.keepLast = keepLast;
    }

    public int getKeepHourly() {
        return keepHourly;
    }

    @DataBoundSetter
    public void setKeepHourly(int keepHourly) {
        this.keepHourly = keepHourly;
    }

    public int getKeepDaily() {
        return keepDaily;
    }

    @DataBoundSetter
    public void setKeepDaily(int keepDaily) {
        this.keepDaily = keepDaily;
    }

    public int getKeepWeekly() {
        return keepWeekly;
    }

    @DataBoundSetter
    public void setKeepWeekly(int keepWeekly) {
        this.keepWeekly = keepWeekly;
    }

    public int getKeepMonthly() {
        return keepMonthly;
    }

    @DataBoundSetter
    public void setKeepMonthly(int keepMonthly) {
        this.keepMonthly = keepMonthly;
    }

    public int getKeepYearly() {
        return keepYearly;
    }

    @DataBoundSetter
    public void setKeepYearly(int keepYearly) {
        this.keepYearly = keepYearly;
    }

    /** The counts as the engine's policy; null when one is negative (the step's checks say so first). */
    RetentionPolicy policy() {
        try {
            return new RetentionPolicy(keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly);
        } catch (IllegalArgumentException negative) {
            return null;
        }
    }

    /** The command line's {@code --keep-*} options; none when no count is given. */
    List<String> cliArguments() {
        RetentionPolicy policy = policy();
        return policy == null ? List.of() : policy.cliArguments();
    }

    /** A problem with the counts, or null. */
    String problem() {
        return policy() == null ? Messages.BackupRetention_negative() : null;
    }

    @Extension
    public static final class DescriptorImpl extends Descriptor<BackupRetention> {
        @Override
        public String getDisplayName() {
            return Messages.BackupRetention_displayName();
        }

        public FormValidation doCheckKeepLast(@QueryParameter String value) {
            return Forms.check(Fields.keepCountProblem(value));
        }

        public FormValidation doCheckKeepHourly(@QueryParameter String value) {
            return Forms.check(Fields.keepCountProblem(value));
        }

        public FormValidation doCheckKeepDaily(@QueryParameter String value) {
            return Forms.check(Fields.keepCountProblem(value));
        }

        public FormValidation doCheckKeepWeekly(@QueryParameter String value) {
            return Forms.check(Fields.keepCountProblem(value));
        }

        public FormValidation doCheckKeepMonthly(@QueryParameter String value) {
            return Forms.check(Fields.keepCountProblem(value));
        }

        public FormValidation doCheckKeepYearly(@QueryParameter String value) {
            return Forms.check(Fields.keepCountProblem(value));
        }
    }
}
