package io.jenkins.plugins.virtbackup.engine;

import io.jenkins.plugins.virtbackup.engine.modes.FreezeResult;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** One domain as the engine needs it. Implemented by the libvirt adapter. */
public interface VirtualMachine {

    String name() throws HypervisorException;

    String uuid() throws HypervisorException;

    DomainState state() throws HypervisorException;

    /** False for a transient domain, which vanishes when it stops. */
    boolean isPersistent() throws HypervisorException;

    /** The persistent definition, without secrets: what {@code virsh define} takes back. */
    String definitionXml() throws HypervisorException;

    /** The disks as the domain uses them now (live definition when it runs). */
    List<Disk> disks() throws HypervisorException;

    /** The domain's current memory size in bytes: an upper estimate of its saved state's size. */
    long memoryBytes() throws HypervisorException;

    /** Bytes a copy of this disk will take on the target at most, as far as the hypervisor can tell. */
    long estimatedCopyBytes(Disk disk) throws HypervisorException;

    /** Asks the guest to shut down (ACPI or agent); returns at once. */
    void requestShutdown() throws HypervisorException;

    /** Stops the domain hard, like pulling the plug. */
    void forceOff() throws HypervisorException;

    void start() throws HypervisorException;

    /**
     * Removes the persistent definition with its NVRAM file and any snapshot and checkpoint metadata;
     * a running domain becomes transient.
     */
    void undefine() throws HypervisorException;

    /**
     * Sends {@code guest-ping} to the guest agent: true when it answered, false when no agent is
     * connected or it did not answer in time.
     */
    boolean pingGuestAgent() throws HypervisorException;

    void pause() throws HypervisorException;

    void resume() throws HypervisorException;

    /** Saves RAM and device state to {@code file} and stops the domain. */
    void saveState(Path file) throws HypervisorException;

    /**
     * Takes a live external snapshot without snapshot metadata: each disk named in {@code overlays}
     * (target to new file) goes on writing to a new qcow2 overlay there, the others are left alone;
     * RAM goes to {@code memoryFile} unless it is null.
     *
     * @return the guest's downtime in ms as the hypervisor measured it, or -1 when it does not say
     */
    long createExternalSnapshot(Map<String, Path> overlays, Path memoryFile) throws HypervisorException;

    /**
     * Starts merging the active overlay of disk {@code target} into the image directly below it,
     * and into nothing further down (a shallow active block commit); returns once the job runs.
     */
    void beginOverlayCommit(String target) throws HypervisorException;

    /** Where the block job of disk {@code target} stands. */
    BlockJobState blockJobState(String target) throws HypervisorException;

    /** Ends a ready commit job of disk {@code target} by switching the disk to the image merged into. */
    void pivot(String target) throws HypervisorException;

    /**
     * Starts a backup job in pull mode with a new checkpoint, both in one step (or neither): the
     * checkpoint marks exactly the point in time exported. Returns once the exports are served.
     */
    void beginPullBackup(PullBackupRequest request) throws HypervisorException;

    /** The exports of the pull backup job that runs now. */
    PullBackupExport pullBackupExport() throws HypervisorException;

    /** The virtual size of disk {@code target} in bytes, as the guest sees it. */
    long diskCapacity(String target) throws HypervisorException;

    /** The names of the domain's checkpoints, oldest first. */
    List<String> checkpointNames() throws HypervisorException;

    /** Checkpoint {@code name}'s XML without the domain's definition, as it can be redefined later. */
    String checkpointXml(String name) throws HypervisorException;

    /**
     * Asks libvirt whether checkpoint {@code name} still has consistent bitmaps on every disk it
     * covers; when libvirt no longer knows the checkpoint, it is first redefined from {@code savedXml}.
     */
    CheckpointCheck validateCheckpoint(String name, String savedXml) throws HypervisorException;

    /** Deletes checkpoint {@code name} and its bitmaps; its changes merge into its parent's. */
    void deleteCheckpoint(String name) throws HypervisorException;

    /** The domain's current job (a backup, a save, a snapshot); {@link JobProgress#active()} is false when none runs. */
    JobProgress currentJob() throws HypervisorException;


    void abortBackupJob() throws HypervisorException;

    /**
     * Freezes the guest's file systems through its agent. Never fails: a request that may have
     * reached the guest without a clear answer is {@link FreezeResult.Outcome#UNCERTAIN}.
     */
    FreezeResult freezeFilesystems() throws HypervisorException;

    /**
     * Thaws the guest's file systems through its agent; returns normally also when the domain has no
     * agent configured (nothing can be frozen then), and fails when the thaw is not confirmed.
     */
    void thawFilesystems() throws HypervisorException;
}
