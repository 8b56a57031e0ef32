package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The job page's charts: the coordinates the SVG gets, worked out by hand for a plot of 248 x 94 at (64, 8). */
class TrendChartTest {
    private static final long MIB = 1 << 20;

    private static TrendChart dataMoved(List<TrendSample> samples) {
        return BackupTrendAction.charts(samples).get(0);
    }

    @Test
    void pointsSpreadFromEdgeToEdgeOldestLeftLargestAtTheTop() {
        TrendChart chart = dataMoved(List.of(new TrendSample(3, 4 * MIB, 1000, 10),
                new TrendSample(4, 0, 2000, 20), new TrendSample(6, 2 * MIB, 4000, -1)));

        assertThat(chart.getTitle()).isEqualTo("Data moved");
        assertThat(chart.getPoints()).extracting(TrendChart.Point::getBuild, TrendChart.Point::getX,
                TrendChart.Point::getY, TrendChart.Point::getLabel).containsExactly(
                tuple(3, "64.0", "8.0", "#3: 4.0 MiB"),
                tuple(4, "188.0", "102.0", "#4: 0 B"),
                tuple(6, "312.0", "55.0", "#6: 2.0 MiB"));
        assertThat(chart.getPolyline()).isEqualTo("64.0,8.0 188.0,102.0 312.0,55.0");
        assertThat(chart.getMaxLabel()).isEqualTo("4.0 MiB");
        assertThat(chart.getFirstBuild()).isEqualTo("#3");
        assertThat(chart.getLastBuild()).isEqualTo("#6");
        assertThat(chart.getPlotBottom()).isEqualTo(102);
        assertThat(chart.getPlotRight()).isEqualTo(312);
    }

    @Test
    void anUnknownValueLeavesItsBuildOutAndKeepsTheOthersInPlace() {
        List<TrendChart> charts = BackupTrendAction.charts(List.of(new TrendSample(1, MIB, 1000, 10),
                new TrendSample(2, MIB, 3000, -1), new TrendSample(3, MIB, 500, 30)));

        TrendChart downtime = charts.get(2);
        assertThat(downtime.getTitle()).isEqualTo("Guest downtime");
        assertThat(downtime.getPoints()).extracting(TrendChart.Point::getBuild, TrendChart.Point::getX,
                TrendChart.Point::getY).containsExactly(tuple(1, "64.0", "70.7"), tuple(3, "312.0", "8.0"));
        assertThat(charts.get(1).getMaxLabel()).isEqualTo("3.0 s");
        assertThat(charts.get(1).getPoints()).hasSize(3);
    }

    @Test
    void oneBuildSitsInTheMiddleAndAllZeroLieOnTheAxis() {
        TrendChart chart = dataMoved(List.of(new TrendSample(9, 0, 0, 0)));

        assertThat(chart.getPoints()).extracting(TrendChart.Point::getX, TrendChart.Point::getY)
                .containsExactly(tuple("188.0", "102.0"));
        assertThat(dataMoved(List.of()).getPolyline()).isEmpty();
        assertThat(dataMoved(List.of()).getFirstBuild()).isEmpty();
    }
}
