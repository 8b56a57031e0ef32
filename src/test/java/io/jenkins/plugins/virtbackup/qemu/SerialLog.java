package io.jenkins.plugins.virtbackup.qemu;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Follows a guest's serial log and stamps each line with the host's monotonic clock on arrival.
 * The guest's own clock stops while it is paused, so downtime is measured from arrival times:
 * the largest gap between heartbeats ({@code H <n> <uptime>}, every 10 ms).
 */
final class SerialLog implements AutoCloseable {
    private static final Pattern HEARTBEAT = Pattern.compile("^H (\\d+) ([0-9.]+)$");

    /** One line and when it arrived (System.nanoTime). */
    record Line(long arrivedNanos, String text) {
    }

    /** A heartbeat: arrival, sequence number, guest uptime in seconds. */
    record Heartbeat(long arrivedNanos, long sequence, double uptime) {
    }

    private final Path file;
    private final List<Line> lines = new ArrayList<>();
    private final List<Heartbeat> heartbeats = new ArrayList<>();
    private final Thread follower;
    private volatile boolean closed;

    SerialLog(Path file) {
        this.file = file;
        follower = new Thread(this::follow, "serial-" + file.getFileName());
        follower.setDaemon(true);
        follower.start();
    }

    private void follow() {
        StringBuilder partial = new StringBuilder();
        long offset = 0;
        byte[] buffer = new byte[1 << 16];
        while (!closed) {
            try {
                if (!Files.exists(file)) {
                    Thread.sleep(2);
                    continue;
                }
                try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
                    in.seek(offset);
                    int n = in.read(buffer);
                    if (n <= 0) {
                        Thread.sleep(1);
                        continue;
                    }
                    offset += n;
                    long now = System.nanoTime();
                    partial.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
                    int newline;
                    while ((newline = partial.indexOf("\n")) >= 0) {
                        add(now, partial.substring(0, newline).replace("\r", ""));
                        partial.delete(0, newline + 1);
                    }
                }
            } catch (IOException e) {
                // The file is being recreated: try again.
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void add(long now, String text) {
        lines.add(new Line(now, text));
        Matcher m = HEARTBEAT.matcher(text);
        if (m.matches()) {
            heartbeats.add(new Heartbeat(now, Long.parseLong(m.group(1)), Double.parseDouble(m.group(2))));
        }
        notifyAll();
    }

    /** Waits for a line matching {@code regex} that arrived at or after {@code afterNanos}. */
    synchronized Line waitFor(String regex, long afterNanos, Duration timeout) throws TimeoutException,
            InterruptedException {
        Pattern pattern = Pattern.compile(regex);
        long deadline = System.nanoTime() + timeout.toNanos();
        int i = 0;
        while (true) {
            for (; i < lines.size(); i++) {
                Line line = lines.get(i);
                if (line.arrivedNanos() >= afterNanos && pattern.matcher(line.text()).find()) {
                    return line;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException("no line matching " + regex + " in " + file + " within " + timeout);
            }
            wait(Math.max(1, Math.min(left / 1_000_000, 200)));
        }
    }

    /** The largest arrival gap between consecutive heartbeats overlapping [from, to], in ms. */
    synchronized double largestGapMillis(long fromNanos, long toNanos) {
        double largest = 0;
        for (int i = 1; i < heartbeats.size(); i++) {
            Heartbeat a = heartbeats.get(i - 1);
            Heartbeat b = heartbeats.get(i);
            if (b.arrivedNanos() >= fromNanos && a.arrivedNanos() <= toNanos) {
                largest = Math.max(largest, (b.arrivedNanos() - a.arrivedNanos()) / 1e6);
            }
        }
        return largest;
    }

    synchronized Heartbeat lastHeartbeat() {
        return heartbeats.isEmpty() ? null : heartbeats.get(heartbeats.size() - 1);
    }

    synchronized String tail(int count) {
        return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()).stream()
                .map(Line::text).toList());
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        follower.join(2000);
    }
}
