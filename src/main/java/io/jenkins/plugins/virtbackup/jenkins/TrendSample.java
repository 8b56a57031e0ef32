package io.jenkins.plugins.virtbackup.jenkins;

import java.util.List;

/**
 * One build's point on the trend: the data its backups moved, how long they took, and the longest
 * guest downtime among them. A figure is -1 when it is unknown for any of its backups (older
 * manifests), so that a sum never passes off a part as the whole. A build whose backups all failed
 * moved nothing.
 */
record TrendSample(int build, long dataBytes, long durationMs, long downtimeMs) {

    static TrendSample of(int build, List<BackupRecord> records) {
        long data = 0;
        long duration = 0;
        long downtime = -1;
        boolean downtimeUnknown = false;
        for (BackupRecord record : records) {
            if (!record.isComplete()) {
                continue;
            }
            data = data < 0 || record.dataBytes() < 0 ? -1 : data + record.dataBytes();
            duration += record.durationMillis();
            if (record.downtimeMillis() < 0) {
                downtimeUnknown = true;
            } else {
                downtime = Math.max(downtime, record.downtimeMillis());
            }
        }
        return new TrendSample(build, data, duration, downtimeUnknown ? -1 : Math.max(downtime, 0));
    }
}
