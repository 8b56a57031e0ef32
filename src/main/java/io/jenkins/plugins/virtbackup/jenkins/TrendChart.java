package io.jenkins.plugins.virtbackup.jenkins;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;
import java.util.function.LongFunction;

/**
 * One small line chart of the job page's trend, its coordinates worked out here so that the view only
 * copies them into SVG: one point per build, oldest on the left, values from 0 at the bottom to the
 * largest at the top. A build whose value is unknown gets no point.
 */
public final class TrendChart {
    static final int WIDTH = 320;
    static final int HEIGHT = 120;
    /** Room for the axis labels: left of the plot and below it. */
    static final int LEFT = 64;
    static final int BOTTOM = 18;
    static final int TOP = 8;
    static final int RIGHT = 8;

    private final String title;
    private final String maxLabel;
    private final List<Point> points;

    /** A point of the chart, with what its tooltip says. */
    public static final class Point {
        private final int build;
        private final String x;
        private final String y;
        private final String label;

        Point(int build, double x, double y, String label) {
            this.build = build;
            this.x = coordinate(x);
            this.y = coordinate(y);
            this.label = label;
        }

        public int getBuild() {
            return build;
        }

        public String getX() {
            return x;
        }

        public String getY() {
            return y;
        }

        /** {@code #12: 3.0 MiB}. */
        public String getLabel() {
            return label;
        }
    }

    /**
     * @param samples oldest first
     * @param value   a sample's value, negative when unknown
     * @param format  a value as text
     */
    TrendChart(String title, List<TrendSample> samples, ToLongFunction<TrendSample> value, LongFunction<String> format) {
        this.title = title;
        long max = 0;
        for (TrendSample sample : samples) {
            max = Math.max(max, value.applyAsLong(sample));
        }
        this.maxLabel = format.apply(max);
        this.points = new ArrayList<>();
        int count = samples.size();
        double plotWidth = WIDTH - LEFT - RIGHT;
        double plotHeight = HEIGHT - TOP - BOTTOM;
        for (int i = 0; i < count; i++) {
            TrendSample sample = samples.get(i);
            long v = value.applyAsLong(sample);
            if (v < 0) {
                continue;
            }
            // One build alone sits in the middle; more spread from edge to edge.
            double x = LEFT + (count == 1 ? plotWidth / 2 : plotWidth * i / (count - 1));
            double y = TOP + plotHeight - (max == 0 ? 0 : plotHeight * v / max);
            points.add(new Point(sample.build(), x, y, "#" + sample.build() + ": " + format.apply(v)));
        }
    }

    public String getTitle() {
        return title;
    }

    /** The value at the top of the chart, the largest. */
    public String getMaxLabel() {
        return maxLabel;
    }

    public List<Point> getPoints() {
        return List.copyOf(points);
    }

    /** The {@code points} attribute of the SVG polyline through every point. */
    public String getPolyline() {
        List<String> pairs = new ArrayList<>();
        for (Point point : points) {
            pairs.add(point.getX() + "," + point.getY());
        }
        return String.join(" ", pairs);
    }

    /** The build number under the first and the last point. */
    public String getFirstBuild() {
        return points.isEmpty() ? "" : "#" + points.get(0).getBuild();
    }

    public String getLastBuild() {
        return points.isEmpty() ? "" : "#" + points.get(points.size() - 1).getBuild();
    }

    public int getWidth() {
        return WIDTH;
    }

    public int getHeight() {
        return HEIGHT;
    }

    /** Left edge of the plot: where the axis is drawn. */
    public int getPlotLeft() {
        return LEFT;
    }

    public int getPlotTop() {
        return TOP;
    }

    public int getPlotBottom() {
        return HEIGHT - BOTTOM;
    }

    public int getPlotRight() {
        return WIDTH - RIGHT;
    }

    /** Right edge of the labels left of the axis. */
    public int getAxisLabelX() {
        return LEFT - 4;
    }

    /** Baseline of the largest value's label, beside the top of the axis. */
    public int getMaxLabelY() {
        return TOP + 8;
    }

    /** Where the labels below the plot sit. */
    public int getLabelY() {
        return HEIGHT - 4;
    }

    private static String coordinate(double value) {
        return String.format(Locale.ROOT, "%.1f", value);
    }
}
