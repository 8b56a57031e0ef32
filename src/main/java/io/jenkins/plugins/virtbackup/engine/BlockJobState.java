package io.jenkins.plugins.virtbackup.engine;

/** Where the block job of one disk stands (the merge of an overlay, here). */
public enum BlockJobState {
    /** No job runs on the disk: it never started, or it ended (pivoted, aborted, or failed). */
    NONE,
    /** Copying; not ready to switch the disk over yet. */
    RUNNING,
    /** Everything is merged and the job mirrors new writes: the disk can be switched over. */
    READY
}
