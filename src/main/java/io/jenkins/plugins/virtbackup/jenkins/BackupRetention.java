package io.jenkins.plugins.virtbackup.jenkins;

import hudson.Extension;
import hudson.model.AbstractDescribableImpl;
import hudson.model.Descriptor;
import hudson.util.FormValidation;
import io.jenkins.plugins.virtbackup.engine.retention.RetentionPolicy;
import java.io.Serializable;
import java.util.ArrayList;
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

    /**
     * The command line's {@code --keep-*} options for the counts given (not 0). A negative count is
     * passed on as it is: the engine refuses it with a usage error, as the form's check does.
     */
    List<String> cliArguments() {
        int[] counts = {keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly};
        List<String> args = new ArrayList<>();
        RetentionPolicy.Rule[] rules = RetentionPolicy.Rule.values();
        for (int i = 0; i < rules.length; i++) {
            if (counts[i] != 0) {
                args.add("--" + rules[i].option());
                args.add(Integer.toString(counts[i]));
            }
        }
        return args;
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
