package io.jenkins.plugins.virtbackup.engine.modes;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.JobProgress;
import io.jenkins.plugins.virtbackup.engine.JobResult;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.copy.CopyCancelledException;
import io.jenkins.plugins.virtbackup.engine.copy.DiskCopier;
import io.jenkins.plugins.virtbackup.engine.copy.Progress;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.recovery.Journaling;
import io.jenkins.plugins.virtbackup.engine.recovery.RecoveryJournal;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * {@code live} mode: libvirt's backup API in push mode. The hypervisor writes a crash-consistent
 * point-in-time copy of each disk into the backup while the guest runs; no overlay ever appears
 * in the domain's definition. Putting back means: no backup job left running.
 */
public final class LiveHold implements GuestHold {
    private static final Duration POLL = Duration.ofMillis(200);

    private final VirtualMachine vm;
    private final String name;
    private final Map<String, Path> targets = new LinkedHashMap<>();
    private final BackupLog log;
    private final BooleanSupplier cancelled;
    private final DiskCopier reader;
    private final RecoveryJournal journal;
    private final RecoveryJournal.Undo undo = new RecoveryJournal.Undo(RecoveryJournal.Undo.ABORT_JOB, Map.of());
    private boolean jobRunning;
    private Downtime downtime;
    /** How long starting the job took: the guest is held at most that long while QEMU starts it. */
    private long beginNanos;

    public LiveHold(VirtualMachine vm, String name, List<Disk> disks, Function<Disk, Path> targetOf,
                   BackupLog log, BooleanSupplier cancelled, DiskCopier reader, RecoveryJournal journal) {
        this.journal = journal;
        this.vm = vm;
        this.name = name;
        this.log = log;
        this.cancelled = cancelled;
        this.reader = reader;
        for (Disk disk : disks) {
            targets.put(disk.target(), targetOf.apply(disk));
        }
    }

    @Override
    public synchronized void hold() throws BackupException {
        Journaling.willDo(journal, undo);
        log.detail("starting libvirt's backup job for domain '" + name + "' into " + targets.values());
        try {
            long started = System.nanoTime();
            vm.beginPushBackup(targets);
            beginNanos = System.nanoTime() - started;
            jobRunning = true;
            log.detail("backup job of domain '" + name + "' started");
        } catch (HypervisorException e) {
            Journaling.undone(journal, undo, log);
            throw new BackupException(ExitStatus.BACKUP_FAILED,
                    "cannot start the backup job of domain '" + name + "': " + e.getMessage(), e);
        }
    }

    @Override
    public List<BackedUpFile> copy(List<Disk> disks, DiskCopy copier) throws BackupException, IOException {
        awaitJob();
        List<BackedUpFile> files = new ArrayList<>();
        for (Disk disk : disks) {
            Path file = targets.get(disk.target());
            files.add(new BackedUpFile(file.getFileName().toString(), "disk", reader.index(file), disk.target(),
                    disk.source(), disk.format()));
        }
        return files;
    }

    private void awaitJob() throws BackupException, IOException {
        Progress progress = new Progress(log, "backup job");
        try {
            JobProgress job;
            while ((job = vm.currentJob()).active()) {
                if (cancelled.getAsBoolean()) {
                    throw new CopyCancelledException("backup job of domain '" + name + "' cancelled");
                }
                progress.update(job.processed(), job.total());
                Thread.sleep(POLL.toMillis());
            }
            synchronized (this) {
                jobRunning = false;
            }
            Journaling.undone(journal, undo, log);
            JobResult result = vm.lastJobResult();
            if (!result.succeeded()) {
                throw new BackupException(ExitStatus.BACKUP_FAILED, "the backup job of domain '" + name + "' failed"
                        + (result.error() == null ? "" : ": " + result.error()));
            }
            // libvirt reports no downtime for a backup job: then the start's duration is the measure.
            downtime = Downtime.reportedOr(result.downtimeMillis(), beginNanos);
            progress.done();
        } catch (HypervisorException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED,
                    "lost track of the backup job of domain '" + name + "': " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CopyCancelledException("interrupted while waiting for the backup job");
        }
    }

    @Override
    public Optional<Downtime> downtime() {
        return Optional.ofNullable(downtime);
    }

    @Override
    public synchronized void putBack() throws BackupException {
        if (!jobRunning) {
            return;
        }
        try {
            log.detail("aborting the backup job of domain '" + name + "'");
            vm.abortBackupJob();
            jobRunning = false;
            Journaling.undone(journal, undo, log);
        } catch (HypervisorException e) {
            throw new BackupException(ExitStatus.VM_NOT_RESTORED, "a backup job still runs on domain '" + name
                    + "' (" + e.getMessage() + "); stop it with: virsh domjobabort '" + name + "'", e);
        }
    }
}
