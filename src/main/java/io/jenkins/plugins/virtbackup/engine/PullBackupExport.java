package io.jenkins.plugins.virtbackup.engine;

import io.jenkins.plugins.virtbackup.engine.copy.BlockSource;
import java.io.IOException;

/** The NBD exports of a running pull backup job: one per disk, each the disk at the job's start. */
public interface PullBackupExport {
    /**
     * Connects to disk {@code target}'s export. Its data extents are what the backup copies: the
     * allocated ones for a full backup, the ones changed since the checkpoint for an incremental.
     */
    BlockSource open(String target) throws IOException;

    /** Disk {@code target}'s export as an NBD URI, for QEMU's tools. */
    String uri(String target);

    /** Where the exports are served, for messages: a socket path or host and port. */
    String address();
}
