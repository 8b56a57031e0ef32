package io.jenkins.plugins.virtbackup.jenkins;

import hudson.model.Action;
import hudson.model.Run;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The job page's trend ({@code jobMain.jelly}): data moved, duration and downtime of the last
 * {@value #BUILDS} builds with backups, up to the last successful build (core asks that build for its
 * project actions). Made anew for each page; nothing of it is saved.
 */
public final class BackupTrendAction implements Action {
    static final int BUILDS = 20;

    private final Run<?, ?> newest;

    BackupTrendAction(Run<?, ?> newest) {
        this.newest = newest;
    }

    /** The builds' samples, oldest first; builds without a backup are passed over. */
    List<TrendSample> samples() {
        List<TrendSample> samples = new ArrayList<>();
        for (Run<?, ?> run = newest; run != null && samples.size() < BUILDS; run = run.getPreviousBuild()) {
            BackupBuildAction action = run.getAction(BackupBuildAction.class);
            if (action != null && !action.getRecords().isEmpty()) {
                samples.add(TrendSample.of(run.getNumber(), action.getRecords()));
            }
        }
        Collections.reverse(samples);
        return samples;
    }

    /** Three charts: data moved, duration, downtime. */
    public List<TrendChart> getCharts() {
        return charts(samples());
    }

    static List<TrendChart> charts(List<TrendSample> samples) {
        return List.of(
                new TrendChart(Messages.BuildPages_dataMoved(), samples, TrendSample::dataBytes, Figures::bytes),
                new TrendChart(Messages.BuildPages_duration(), samples, TrendSample::durationMs, Figures::duration),
                new TrendChart(Messages.BuildPages_downtime(), samples, TrendSample::downtimeMs, Figures::duration));
    }

    @Override
    public String getIconFileName() {
        return null;
    }

    @Override
    public String getDisplayName() {
        return Messages.BuildPages_trend();
    }

    @Override
    public String getUrlName() {
        return null;
    }
}
