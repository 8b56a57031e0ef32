package io.jenkins.plugins.virtbackup.engine;

/**
 * Whether a checkpoint can start an incremental: libvirt validated its disk bitmaps (redefine
 * with validation), after redefining it from the XML saved in the manifest when it had lost it.
 *
 * @param problem null when usable, else libvirt's reason
 * @param redefined the metadata was gone and was put back from the saved XML
 */
public record CheckpointCheck(String problem, boolean redefined) {
    public boolean usable() {
        return problem == null;
    }
}
