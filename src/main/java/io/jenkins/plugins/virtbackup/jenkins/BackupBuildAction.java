package io.jenkins.plugins.virtbackup.jenkins;

import hudson.model.BuildBadgeAction;
import hudson.model.Run;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import jenkins.model.RunAction2;
import jenkins.tasks.SimpleBuildStep;

/**
 * What virt-backup did in one build, saved with it: one {@link BackupRecord} per backup made or domain
 * failed, from freestyle steps and pipeline steps alike. Shows them on the build page
 * ({@code summary.jelly}), the levels as a badge in the build history ({@code badge.jelly}), and
 * gives the job page its trend ({@link BackupTrendAction}, through core's factory for
 * {@link SimpleBuildStep.LastBuildAction}).
 */
public final class BackupBuildAction implements RunAction2, SimpleBuildStep.LastBuildAction, BuildBadgeAction {
    /** Guards finding or adding the one action of a run: parallel pipeline branches may back up at once. */
    private static final Object ATTACH = new Object();

    private final List<BackupRecord> records = new ArrayList<>();
    private transient Run<?, ?> run;

    /** The run's action, added on first use. */
    static BackupBuildAction of(Run<?, ?> run) {
        synchronized (ATTACH) {
            BackupBuildAction action = run.getAction(BackupBuildAction.class);
            if (action == null) {
                action = new BackupBuildAction();
                run.addAction(action);
            }
            return action;
        }
    }

    synchronized void add(BackupRecord record) {
        records.add(record);
    }

    /** In the order they ended. */
    public synchronized List<BackupRecord> getRecords() {
        return List.copyOf(records);
    }

    /** The build's artifacts, relative to Jenkins' root URL. */
    public String getArtifactsUrl() {
        return run == null ? null : run.getUrl() + "artifact/";
    }

    /** The levels the build's backups were taken at ({@code full}, {@code inc+full}); null when none completed. */
    public String getBadgeText() {
        Set<String> levels = new LinkedHashSet<>();
        for (BackupRecord record : getRecords()) {
            if (record.isComplete()) {
                levels.add(record.getLevel());
            }
        }
        return levels.isEmpty() ? null : String.join("+", levels);
    }

    /** The badge's tooltip: how many backups, and of how many domains. */
    public String getBadgeTooltip() {
        List<BackupRecord> all = getRecords();
        long complete = all.stream().filter(BackupRecord::isComplete).count();
        return Messages.BuildPages_badgeTooltip(complete, all.size());
    }

    @Override
    public Collection<BackupTrendAction> getProjectActions() {
        return run == null ? List.of() : List.of(new BackupTrendAction(run));
    }

    @Override
    public void onAttached(Run<?, ?> r) {
        this.run = r;
    }

    @Override
    public void onLoad(Run<?, ?> r) {
        this.run = r;
    }

    /** No page of its own and no link in the side panel: its views are included in the build's page. */
    @Override
    public String getIconFileName() {
        return null;
    }

    @Override
    public String getDisplayName() {
        return Messages.BuildPages_displayName();
    }

    @Override
    public String getUrlName() {
        return null;
    }
}
