package io.jenkins.plugins.virtbackup.engine.modes;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.PullBackupExport;
import io.jenkins.plugins.virtbackup.engine.PullBackupRequest;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.copy.BlockSource;
import io.jenkins.plugins.virtbackup.engine.copy.CopyCancelledException;
import io.jenkins.plugins.virtbackup.engine.copy.DiskCopier;
import io.jenkins.plugins.virtbackup.engine.copy.ExtentCopy;
import io.jenkins.plugins.virtbackup.engine.copy.ImageSink;
import io.jenkins.plugins.virtbackup.engine.copy.Progress;
import io.jenkins.plugins.virtbackup.engine.copy.Qcow2Writer;
import io.jenkins.plugins.virtbackup.engine.copy.Sizes;
import io.jenkins.plugins.virtbackup.engine.incremental.ChainPlan;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.recovery.Journaling;
import io.jenkins.plugins.virtbackup.engine.recovery.RecoveryJournal;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.engine.store.Increment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * {@code live} mode: libvirt's backup API in pull mode. In one instant libvirt takes a checkpoint
 * and exports each disk's point in time over NBD, keeping the guest's writes meanwhile in scratch
 * files; the guest runs on. The copy reads only what it needs (allocated extents for a full, the
 * checkpoint's dirty extents for an inc or diff) and writes each disk into a qcow2 that
 * {@code qemu-nbd} writes, over the parent backup's file for an inc or diff. No overlay ever
 * appears in the domain's definition. Putting back means: no backup job left running.
 */
public final class LiveHold implements GuestHold {
    private static final Duration JOB_END_TIMEOUT = Duration.ofSeconds(60);
    /**
     * NBD connections per disk, to the job's export and to qemu-nbd alike: with one request at a
     * time both servers wait on each other (bench/run, docs/benchmark.md).
     */
    static final int CONNECTIONS = 4;
    private final VirtualMachine vm;
    private final String name;
    private final BackupLog log;
    private final BooleanSupplier cancelled;
    private final DiskCopier indexer;
    private final Qcow2Writer writer;
    private final RecoveryJournal journal;
    private final ChainPlan plan;
    private final PullBackupRequest request;
    private final Path scratchFolder;
    private final Map<String, Long> capacities;
    private final Function<String, Path> backupFile;
    private final RecoveryJournal.Undo abortJob = new RecoveryJournal.Undo(RecoveryJournal.Undo.ABORT_JOB, Map.of());
    private final RecoveryJournal.Undo removeScratch;
    private final RecoveryJournal.Undo deleteCheckpoint;
    private final Map<String, Increment.DiskChain> diskChains = new LinkedHashMap<>();
    private PullBackupExport export;
    private boolean jobRunning;
    private boolean checkpointTaken;
    private Downtime downtime;

    /**
     * @param scratchFolder where libvirt keeps the guest's writes during the job, and the NBD socket
     *                      when the hypervisor is this machine; made here, removed after the job
     * @param capacities    each disk's virtual size, by target
     * @param backupFile    a file's path in the backup, by name
     */
    public LiveHold(VirtualMachine vm, String name, ChainPlan plan, PullBackupRequest request, Path scratchFolder,
                    Map<String, Long> capacities, Function<String, Path> backupFile, Qcow2Writer writer,
                    DiskCopier indexer, BackupLog log, BooleanSupplier cancelled, RecoveryJournal journal) {
        this.vm = vm;
        this.name = name;
        this.plan = plan;
        this.request = request;
        this.scratchFolder = scratchFolder;
        this.capacities = Map.copyOf(capacities);
        this.backupFile = backupFile;
        this.writer = writer;
        this.indexer = indexer;
        this.log = log;
        this.cancelled = cancelled;
        this.journal = journal;
        this.removeScratch = new RecoveryJournal.Undo(RecoveryJournal.Undo.REMOVE_SCRATCH,
                Map.of("folder", scratchFolder.toString()));
        this.deleteCheckpoint = request.checkpointName() == null ? null : new RecoveryJournal.Undo(
                RecoveryJournal.Undo.DELETE_CHECKPOINT, Map.of("checkpoint", request.checkpointName()));
    }

    /**
     * Whether libvirt can keep a checkpoint's bitmap in this disk: only in a qcow2 image. Other
     * disks are exported whole by every backup, inc and diff included.
     */
    public static boolean keepsBitmap(Disk disk) {
        return "qcow2".equals(disk.format());
    }

    /** The backup file of disk {@code target} in live mode: always a qcow2, whatever the disk's format. */
    public static String fileName(String target) {
        return target + ".qcow2";
    }

    @Override
    public synchronized void hold() throws BackupException {
        prepareScratchFolder();
        // Undone backwards: the job ends first, then the checkpoint goes, then the scratch files.
        Journaling.willDo(journal, removeScratch);
        if (deleteCheckpoint != null) {
            Journaling.willDo(journal, deleteCheckpoint);
        }
        Journaling.willDo(journal, abortJob);
        log.detail("starting libvirt's backup job (pull mode, level " + plan.level() + ") of domain '" + name
                + "' " + (deleteCheckpoint == null ? "without a checkpoint: no disk is qcow2"
                        : "with checkpoint " + request.checkpointName()));
        try {
            long started = System.nanoTime();
            vm.beginPullBackup(request);
            downtime = Downtime.measured(System.nanoTime() - started);
        } catch (HypervisorException e) {
            // libvirt starts the job and takes the checkpoint in one step, or does neither.
            Journaling.undone(journal, abortJob, log);
            if (deleteCheckpoint != null) {
                Journaling.undone(journal, deleteCheckpoint, log);
            }
            throw new BackupException(ExitStatus.BACKUP_FAILED,
                    "cannot start the backup job of domain '" + name + "': " + e.getMessage(), e);
        }
        jobRunning = true;
        checkpointTaken = deleteCheckpoint != null;
        try {
            export = vm.pullBackupExport();
        } catch (HypervisorException e) {
            // The job and its checkpoint exist: put back and discard take them back.
            throw new BackupException(ExitStatus.BACKUP_FAILED,
                    "cannot read the backup job of domain '" + name + "': " + e.getMessage(), e);
        }
        log.detail("backup job of domain '" + name + "' serves its disks on " + export.address());
    }

    private void prepareScratchFolder() throws BackupException {
        try {
            Files.createDirectories(scratchFolder);
            // QEMU, as its own user, creates the NBD socket here; nobody else may list the folder.
            Files.setPosixFilePermissions(scratchFolder, PosixFilePermissions.fromString("rwx-wx-wx"));
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot make the scratch folder " + scratchFolder
                    + ": " + BackupDirectory.describe(e), e);
        }
    }

    @Override
    public List<BackedUpFile> copy(List<Disk> disks, DiskCopy copier) throws BackupException, IOException {
        List<BackedUpFile> files = new ArrayList<>();
        for (Disk disk : disks) {
            files.add(copyDisk(disk, backupFile.apply(fileName(disk.target()))));
        }
        endJob();
        return files;
    }

    private BackedUpFile copyDisk(Disk disk, Path file) throws IOException {
        String target = disk.target();
        long size = capacities.get(target);
        boolean whole = request.incrementalFrom() == null || request.wholeDisks().contains(target);
        String backing = whole ? null : plan.backingFile(target);
        log.detail("copying disk " + target + " from the job's NBD export to " + file.getFileName()
                + (whole ? " (allocated extents, qemu-img convert)" : " (changed extents, over " + backing + ")")
                + (writer.compression() == null ? "" : ", " + writer.compression() + "-compressed"));
        if (whole) {
            Progress progress = new Progress(log, "disk " + target);
            writer.convert(export.uri(target), file, cancelled, percent -> progress.update(percent, 100));
            progress.done();
            log.detail("disk " + target + ": a qcow2 of " + Sizes.human(Files.size(file)));
        } else {
            ExtentCopy.Totals totals = copyChanges(target, file, size, backing);
            log.detail(String.format(Locale.ROOT, "disk %s: copied %s of changed data and %s of zeros", target,
                    Sizes.human(totals.dataBytes()), Sizes.human(totals.zeroBytes())));
        }
        String name = file.getFileName().toString();
        diskChains.put(target, whole ? new Increment.DiskChain(size, List.of(name))
                : plan.diskChain(target, name, size));
        return new BackedUpFile(name, "disk", indexer.index(file), target, disk.source(), "qcow2", null,
                writer.compression());
    }

    /** The extents the checkpoint's bitmap marks, into a qcow2 over the parent's, through qemu-nbd. */
    private ExtentCopy.Totals copyChanges(String target, Path file, long size, String backing) throws IOException {
        List<BlockSource> sources = new ArrayList<>();
        try (ImageSink sink = writer.create(file, size, backing, CONNECTIONS)) {
            for (int i = 0; i < CONNECTIONS; i++) {
                sources.add(export.open(target));
            }
            return new ExtentCopy(cancelled).copy(sources, sink, true, new Progress(log, "disk " + target));
        } finally {
            closeAll(sources);
        }
    }

    private static void closeAll(List<BlockSource> sources) throws IOException {
        IOException failure = null;
        for (BlockSource source : sources) {
            try {
                source.close();
            } catch (IOException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** In pull mode the job runs until its client ends it: every export is read. */
    private synchronized void endJob() throws BackupException, IOException {
        if (cancelled.getAsBoolean()) {
            throw new CopyCancelledException("backup of domain '" + name + "' cancelled");
        }
        putBack();
    }

    /** The checkpoint taken with the job; null when none was. */
    public String checkpointName() {
        return request.checkpointName();
    }

    /** Each disk's chain of backup files, once copied. */
    public Map<String, Increment.DiskChain> diskChains() {
        return Map.copyOf(diskChains);
    }

    @Override
    public Optional<Downtime> downtime() {
        return Optional.ofNullable(downtime);
    }

    @Override
    public synchronized void putBack() throws BackupException {
        if (jobRunning) {
            try {
                log.detail("ending the backup job of domain '" + name + "'");
                vm.abortBackupJob();
                awaitJobEnd();
                jobRunning = false;
                Journaling.undone(journal, abortJob, log);
            } catch (HypervisorException e) {
                throw new BackupException(ExitStatus.VM_NOT_RESTORED, "a backup job still runs on domain '" + name
                        + "' (" + e.getMessage() + "); stop it with: virsh domjobabort '" + name + "'", e);
            }
        }
        try {
            BackupDirectory.deleteTree(scratchFolder);
            Journaling.undone(journal, removeScratch, log);
        } catch (IOException | UncheckedIOException e) {
            log.warning("cannot remove the scratch files in " + scratchFolder + ": " + e.getMessage());
        }
    }

    /**
     * The abort returns while QEMU still stops its NBD server and libvirt removes the scratch
     * files: only once the job is gone is the folder ours to remove.
     */
    private void awaitJobEnd() throws HypervisorException {
        long deadline = System.nanoTime() + JOB_END_TIMEOUT.toNanos();
        while (vm.currentJob().active()) {
            if (System.nanoTime() > deadline) {
                throw new HypervisorException(HypervisorException.Kind.OTHER, "the backup job did not end within "
                        + JOB_END_TIMEOUT.toSeconds() + " s of its abort", null);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HypervisorException(HypervisorException.Kind.OTHER, "interrupted while the job ended", e);
            }
        }
    }

    /** The backup failed: its checkpoint would only make the next inc count from a point no backup holds. */
    @Override
    public synchronized void discard() {
        if (!checkpointTaken) {
            return;
        }
        try {
            vm.deleteCheckpoint(request.checkpointName());
            checkpointTaken = false;
            Journaling.undone(journal, deleteCheckpoint, log);
        } catch (HypervisorException e) {
            log.warning("cannot delete checkpoint " + request.checkpointName() + " of the failed backup ("
                    + e.getMessage() + "); the next run deletes it");
        }
    }
}
