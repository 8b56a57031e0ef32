package io.jenkins.plugins.virtbackup.engine;

import io.jenkins.plugins.virtbackup.engine.copy.ChainCopy;
import io.jenkins.plugins.virtbackup.engine.copy.CopyCancelledException;
import io.jenkins.plugins.virtbackup.engine.copy.DiskCopier;
import io.jenkins.plugins.virtbackup.engine.copy.FileDigest;
import io.jenkins.plugins.virtbackup.engine.copy.FileExtents;
import io.jenkins.plugins.virtbackup.engine.copy.Qcow2Writer;
import io.jenkins.plugins.virtbackup.engine.copy.Sizes;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import io.jenkins.plugins.virtbackup.engine.image.FileIdentity;
import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.incremental.ChainPlan;
import io.jenkins.plugins.virtbackup.engine.incremental.ChainPlanner;
import io.jenkins.plugins.virtbackup.engine.incremental.Checkpoints;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.lvm.SnapshotPlan;
import io.jenkins.plugins.virtbackup.engine.lvm.VolumeTools;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.modes.Downtime;
import io.jenkins.plugins.virtbackup.engine.modes.FileSystemFreeze;
import io.jenkins.plugins.virtbackup.engine.modes.GuestHold;
import io.jenkins.plugins.virtbackup.engine.modes.HypervisorAccess;
import io.jenkins.plugins.virtbackup.engine.modes.LiveHold;
import io.jenkins.plugins.virtbackup.engine.modes.ShutdownHold;
import io.jenkins.plugins.virtbackup.engine.modes.SnapshotDmHold;
import io.jenkins.plugins.virtbackup.engine.modes.SnapshotLibvirtHold;
import io.jenkins.plugins.virtbackup.engine.modes.SuspendHold;
import io.jenkins.plugins.virtbackup.engine.recovery.DomainLock;
import io.jenkins.plugins.virtbackup.engine.recovery.JournalReplay;
import io.jenkins.plugins.virtbackup.engine.recovery.RecoveryJournal;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.engine.store.Increment;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * Backs up one domain: its definition, its disks and, when the mode saves one, its RAM state,
 * into a new directory that only gets its final name once everything in it is written and verified.
 *
 * <p>Whatever fails, the domain is put back in the state it was found in before the failure is
 * reported; when even that fails, the run ends with {@link ExitStatus#VM_NOT_RESTORED} and says what
 * state the domain is in and how to bring it back.
 */
public final class BackupEngine {
    public static final String DEFINITION_FILE = "domain.xml";
    public static final String MEMORY_FILE = "memory.state";
    public static final String RUN_LOG_FILE = "virt-backup.log";
    /** The default folder, in the state directory, of snapshot-libvirt's temporary overlays. */
    public static final String OVERLAY_FOLDER = "overlays";
    /** The folder, in the state directory, where snapshot-dm mounts its snapshots' file systems. */
    public static final String MOUNT_FOLDER = "dm-mounts";

    private final Hypervisor hypervisor;
    private final BackupLog log;
    private final StateDirectory state;
    private final DiskCopier copier;
    private final ChainCopy chainCopy;
    private final Qcow2Writer qcow2Writer;
    private final VolumeTools volumes;
    /** How many snapshot-dm runs this process made: part of their snapshots' names. */
    private static final AtomicInteger SNAPSHOT_RUNS = new AtomicInteger();
    private volatile boolean cancelled;
    /** The hold in force while disks are copied, so that {@link #cancel} can put the domain back. */
    private GuestHold activeHold;

    /**
     * @param state   where domain locks and recovery journals live
     * @param extents where files hold data, so that copies read only that
     * @param qcow2Writer how {@code live} mode writes its qcow2 files
     */
    public BackupEngine(Hypervisor hypervisor, BackupLog log, StateDirectory state, FileExtents extents,
                        Qcow2Writer qcow2Writer) {
        this(hypervisor, log, state, extents, qcow2Writer, VolumeTools.ABSENT);
    }

    /** @param volumes the host's LVM and mount table, for {@code snapshot-dm} */
    public BackupEngine(Hypervisor hypervisor, BackupLog log, StateDirectory state, FileExtents extents,
                        Qcow2Writer qcow2Writer, VolumeTools volumes) {
        this.hypervisor = hypervisor;
        this.volumes = volumes;
        this.qcow2Writer = qcow2Writer;
        this.log = log;
        this.state = state;
        this.copier = new DiskCopier(() -> cancelled, extents, BackupDirectory.FILE_MODE);
        this.chainCopy = new ChainCopy(copier, log);
    }

    /**
     * Runs one backup.
     *
     * @return the complete backup: its folder and its manifest
     * @throws BackupException a one-line reason and the exit status, already logged
     */
    public CompletedBackup run(BackupRequest request) throws BackupException {
        try {
            return backUp(request);
        } catch (BackupException e) {
            report(e);
            throw e;
        }
    }

    /** Logs a failure once, at its level, while the run log may still be recording. */
    private void report(BackupException e) {
        if (e.isReported()) {
            return;
        }
        e.markReported();
        if (e.status() == ExitStatus.VM_NOT_RESTORED) {
            log.critical(e.getMessage());
        } else {
            log.error(e.getMessage());
        }
    }

    /**
     * Stops a run from another thread (a signal handler): the domain is put back at once, without
     * waiting for the copy in progress, which then fails. Safe to call at any time, more than once.
     */
    public void cancel() throws BackupException {
        cancelled = true;
        GuestHold hold;
        synchronized (this) {
            hold = activeHold;
        }
        if (hold != null) {
            log.warning("stopping: putting the domain back first");
            hold.putBack();
        }
    }

    private CompletedBackup backUp(BackupRequest request) throws BackupException {
        Instant start = Instant.now();
        String name = request.domain();
        if (!request.mode().isAvailable()) {
            throw new BackupException(ExitStatus.USAGE, "mode '" + request.mode()
                    + "' is not available in this version; use shutdown, suspend, snapshot-libvirt or live");
        }
        BackupDirectory.checkSafeName(name);
        try (DomainLock lock = DomainLock.acquire(state, hypervisor.uri(), name, "backup");
             DomainLock folder = DomainLock.acquireFolder(state, request.backupRoot().resolve(name), "backup")) {
            RecoveryJournal journal = openJournal(name);
            if (!journal.isEmpty()) {
                log.warning("an earlier run on domain '" + name + "' did not finish: recovering first");
                new JournalReplay(hypervisor, log, volumes).finish(journal);
            }
            return backUpLocked(request, start, journal);
        }
    }

    private RecoveryJournal openJournal(String name) throws BackupException {
        return RecoveryJournal.open(state, hypervisor.uri(), name);
    }

    private CompletedBackup backUpLocked(BackupRequest request, Instant start, RecoveryJournal journal)
            throws BackupException {
        String name = request.domain();
        VirtualMachine vm = lookUp(name);
        DomainState found = inspect(() -> vm.state(), name);
        DiskSelection selection = DiskSelection.choose(name, inspect(vm::disks, name), request.disks());
        checkModeFits(request.mode(), found, vm, name);
        if (request.mode() == BackupMode.SNAPSHOT_DM && found.isActive()) {
            refuseRemoteVolumes();
            SnapshotPlan.requirePrivileges(volumes);
        }
        Map<String, BackingChain> chains = readChains(selection);
        boolean pulls = request.mode() == BackupMode.LIVE && found.isActive();
        Map<String, Long> capacities = pulls ? capacities(vm, selection, name) : Map.of();
        ChainPlan plan = planLevel(request, found, vm, selection, capacities);
        SnapshotPlan snapshots = request.mode() == BackupMode.SNAPSHOT_DM && found.isActive()
                ? snapshotPlan(request, selection, chains) : null;

        log.milestone("backup of domain '" + name + "' started: mode " + request.mode()
                + (pulls ? ", level " + plan.level() : "") + (request.compress() ? ", compressed" : "")
                + ", domain " + found.name().toLowerCase(Locale.ROOT)
                + ", " + selection.toCopy().size() + " disk(s), to " + request.backupRoot());
        BackupDirectory directory = BackupDirectory.create(request.backupRoot(), name, start);
        boolean committed = false;
        boolean keepForRecovery = false;
        GuestHold hold = GuestHold.NONE;
        try {
            journal.startedBackup(directory.partialPath());
            log.recordTo(directory.file(RUN_LOG_FILE));
            boolean savesMemory = found.isActive()
                    && (request.mode() == BackupMode.SUSPEND || request.mode() == BackupMode.SNAPSHOT_LIBVIRT
                    || request.mode() == BackupMode.SNAPSHOT_DM);
            directory.requireSpace(estimateBytes(vm, selection, chains, savesMemory, name));
            Path overlayDir = overlayDir(request);
            Path scratchFolder = state.scratchFolder(hypervisor.uri(), name);
            if (found.isActive()) {
                HypervisorAccess.check(request.mode(), hypervisor.uri(), overlayDir, scratchFolder);
            }
            selection.skipped().forEach((target, why) -> log.notice("disk " + target + " skipped: " + why));

            List<BackedUpFile> files = new ArrayList<>();
            files.add(writeDefinition(vm, name, directory));
            Qcow2Writer writer = request.compress() ? qcow2Writer.compressed() : qcow2Writer;
            hold = pulls ? liveHold(vm, name, plan, selection, capacities, scratchFolder, directory, writer, journal)
                    : holdFor(request, vm, found, directory, selection, chains, overlayDir, snapshots, journal);
            ChainCopy diskCopy = request.compress() ? new ChainCopy(copier, log, writer) : chainCopy;
            Downtime downtime = copyWhileHeld(hold, selection, chains, diskCopy, directory, files, found.isActive(),
                    quiesce(request, found) ? vm : null, journal);
            if (savesMemory) {
                files.add(new BackedUpFile(MEMORY_FILE, "memory", copier.index(directory.file(MEMORY_FILE)),
                        null, hypervisor.uri(), null));
            }
            if (request.readBack()) {
                readBack(directory, files);
            }
            Increment increment = hold instanceof LiveHold live ? increment(vm, name, plan, live)
                    : Increment.STANDALONE;
            Manifest manifest = new Manifest(ToolVersion.get(), name, inspect(vm::uuid, name), hypervisor.uri(),
                    request.mode(), found, start, Instant.now(), downtime, files, selection.skipped(), chains,
                    increment, request.readBack());
            writeSynced(directory.file(Manifest.FILE_NAME), manifest.toJson());
            log.milestone(String.format(Locale.ROOT,
                    "backup of domain '%s' complete: %d file(s), %s, guest downtime %s, in %s",
                    name, files.size(), Sizes.human(manifest.totalBytes()), downtime.describe(),
                    directory.completePath()));
            log.stopRecording();
            directory.commit();
            committed = true;
            finishJournal(journal);
            if (increment.checkpoint() != null && increment.level() == BackupLevel.FULL) {
                Checkpoints.deleteOlder(vm, increment.checkpoint().name(), log);
            }
            return new CompletedBackup(directory.completePath().toAbsolutePath(), manifest);
        } catch (BackupException | IOException e) {
            BackupException failure = asBackupFailure(e);
            report(failure);
            // The saved RAM state may be the only way back to the running domain: never delete it.
            keepForRecovery = failure.status() == ExitStatus.VM_NOT_RESTORED;
            throw failure;
        } finally {
            if (!committed) {
                if (!keepForRecovery) {
                    hold.discard();
                }
                abandon(directory, keepForRecovery, journal);
            }
        }
    }

    private static BackupException asBackupFailure(Exception e) {
        if (e instanceof BackupException backupException) {
            return backupException;
        }
        if (e instanceof CopyCancelledException) {
            return new BackupException(ExitStatus.BACKUP_FAILED, "backup stopped before it was complete", e);
        }
        return new BackupException(ExitStatus.BACKUP_FAILED,
                "cannot write the backup: " + BackupDirectory.describe((IOException) e), e);
    }

    private VirtualMachine lookUp(String name) throws BackupException {
        try {
            return hypervisor.lookup(name);
        } catch (HypervisorException e) {
            throw translate(e, name);
        }
    }

    /** A hypervisor query before anything changed: its failure leaves nothing to undo. */
    private <T> T inspect(HypervisorQuery<T> query, String name) throws BackupException {
        try {
            return query.get();
        } catch (HypervisorException e) {
            throw translate(e, name);
        }
    }

    private static BackupException translate(HypervisorException e, String name) {
        switch (e.kind()) {
            case NOT_FOUND:
                return new BackupException(ExitStatus.NOT_FOUND, "domain '" + name + "' not found", e);
            case UNREACHABLE:
                return new BackupException(ExitStatus.HYPERVISOR_UNREACHABLE,
                        "lost the hypervisor connection: " + e.getMessage(), e);
            default:
                return new BackupException(ExitStatus.BACKUP_FAILED,
                        "cannot read domain '" + name + "': " + e.getMessage(), e);
        }
    }

    private static void checkModeFits(BackupMode mode, DomainState found, VirtualMachine vm, String name)
            throws BackupException {
        if (found == DomainState.OTHER) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "domain '" + name
                    + "' is neither running, paused nor shut off; not touching it");
        }
        if (mode != BackupMode.SHUTDOWN || !found.isActive()) {
            return;
        }
        if (found == DomainState.PAUSED) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "domain '" + name
                    + "' is paused and cannot shut down; use mode suspend, or resume it first");
        }
        boolean persistent;
        try {
            persistent = vm.isPersistent();
        } catch (HypervisorException e) {
            throw translate(e, name);
        }
        if (!persistent) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "domain '" + name
                    + "' is transient: it would vanish when shut down; use mode suspend");
        }
    }

    /** snapshot-dm runs LVM here: on a hypervisor elsewhere, it would snapshot and read the wrong machine's volumes. */
    private void refuseRemoteVolumes() throws BackupException {
        Optional<String> remote = HypervisorHost.otherMachine(hypervisor.uri());
        if (remote.isPresent()) {
            throw new BackupException(ExitStatus.USAGE, "snapshot-dm snapshots the domain's logical volumes with "
                    + "this machine's LVM and reads them here, but the hypervisor is on " + remote.get()
                    + ": run virt-backup on " + remote.get() + " itself (a Jenkins agent there), or use another mode");
        }
    }

    /**
     * Each disk's image chain, read before anything changes: a chain the backup cannot follow is
     * refused here, with nothing touched.
     */
    private static Map<String, BackingChain> readChains(DiskSelection selection) throws BackupException {
        Map<String, BackingChain> chains = new LinkedHashMap<>();
        for (Disk disk : selection.toCopy()) {
            chains.put(disk.target(), BackingChain.of(disk.target(), Path.of(disk.source()), disk.format()));
        }
        return chains;
    }

    /**
     * snapshot-dm's volumes, sizes and mount folders, found before the domain is touched: disks off
     * LVM, thin volumes, a group without room are usage errors with nothing changed.
     */
    private SnapshotPlan snapshotPlan(BackupRequest request, DiskSelection selection, Map<String, BackingChain> chains)
            throws BackupException {
        if (request.compress() && chains.values().stream().anyMatch(BackingChain::hasBacking)) {
            throw new BackupException(ExitStatus.USAGE, "snapshot-dm cannot compress disks with backing images "
                    + "(QEMU would read the images below from the live volume, not the snapshot); leave out --compress");
        }
        // Unique among runs: two processes backing up domains whose images share a volume, or
        // this one again within the second, never take each other's snapshot for their own.
        String suffix = "-vbsnap-" + Instant.now().getEpochSecond() + "-" + ProcessHandle.current().pid() + "-"
                + SNAPSHOT_RUNS.incrementAndGet();
        return SnapshotPlan.of(request.domain(), selection.toCopy(), chains, volumes, request.snapshotBytes(), suffix,
                state.root().resolve(MOUNT_FOLDER));
    }

    private Path overlayDir(BackupRequest request) {
        return request.overlayDir() != null ? request.overlayDir() : state.root().resolve(OVERLAY_FOLDER);
    }

    private long estimateBytes(VirtualMachine vm, DiskSelection selection, Map<String, BackingChain> chains,
                               boolean savesMemory, String name) throws BackupException {
        long bytes = 1 << 20;
        for (Disk disk : selection.toCopy()) {
            bytes += inspect(() -> vm.estimatedCopyBytes(disk), name);
            for (BackingChain.Image image : chains.get(disk.target()).below()) {
                bytes += imageLength(image.path());
            }
        }
        if (savesMemory) {
            bytes += inspect(vm::memoryBytes, name);
        }
        return bytes + bytes / 100;
    }

    private BackedUpFile writeDefinition(VirtualMachine vm, String name, BackupDirectory directory)
            throws BackupException, IOException {
        String xml = inspect(vm::definitionXml, name);
        writeSynced(directory.file(DEFINITION_FILE), xml);
        FileDigest digest = copier.index(directory.file(DEFINITION_FILE));
        return new BackedUpFile(DEFINITION_FILE, "definition", digest, null, hypervisor.uri(), null);
    }

    /** A file's length or a block device's size: an upper bound of what copying it writes. */
    private static long imageLength(Path image) throws BackupException {
        try {
            return FileIdentity.of(image).size();
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot read " + image + ": " + e.getMessage(), e);
        }
    }

    private GuestHold holdFor(BackupRequest request, VirtualMachine vm, DomainState found, BackupDirectory directory,
                              DiskSelection selection, Map<String, BackingChain> chains, Path overlayDir,
                              SnapshotPlan snapshots, RecoveryJournal journal) {
        if (!found.isActive()) {
            return GuestHold.NONE;
        }
        String name = request.domain();
        switch (request.mode()) {
            case SHUTDOWN:
                return new ShutdownHold(vm, name, request.shutdownTimeout(), request.forceOff(), log, journal,
                        () -> cancelled);
            case SNAPSHOT_DM:
                return new SnapshotDmHold(new SuspendHold(hypervisor, vm, name, directory.file(MEMORY_FILE),
                        found == DomainState.PAUSED, log, journal), snapshots, volumes, name, log, journal);
            case SNAPSHOT_LIBVIRT:
                return new SnapshotLibvirtHold(vm, name, selection.toCopy(), chains, overlayDir,
                        directory.file(MEMORY_FILE), log, journal);
            default:
                return new SuspendHold(hypervisor, vm, name, directory.file(MEMORY_FILE), found == DomainState.PAUSED,
                        log, journal);
        }
    }

    /**
     * The level this backup is taken at. Only {@code live} mode keeps a chain; there the backups
     * already in the root decide ({@link ChainPlanner}).
     */
    private ChainPlan planLevel(BackupRequest request, DomainState found, VirtualMachine vm, DiskSelection selection,
                                Map<String, Long> capacities) throws BackupException {
        String name = request.domain();
        if (request.mode() != BackupMode.LIVE) {
            if (request.level().needsParent()) {
                throw new BackupException(ExitStatus.USAGE, "--level " + request.level() + " needs mode live: only "
                        + "it keeps the checkpoints an incremental starts from (mode is " + request.mode() + ")");
            }
            return ChainPlan.FULL;
        }
        Map<String, ChainPlanner.DiskNow> disks = new LinkedHashMap<>();
        for (Disk disk : selection.toCopy()) {
            if (capacities.containsKey(disk.target())) {
                disks.put(disk.target(), new ChainPlanner.DiskNow(disk.source(), capacities.get(disk.target()),
                        LiveHold.keepsBitmap(disk)));
            }
        }
        return new ChainPlanner(vm, name, log).plan(request.level(), found.isActive(),
                request.backupRoot().resolve(name), inspect(vm::uuid, name), disks);
    }

    private Map<String, Long> capacities(VirtualMachine vm, DiskSelection selection, String name)
            throws BackupException {
        Map<String, Long> capacities = new LinkedHashMap<>();
        for (Disk disk : selection.toCopy()) {
            capacities.put(disk.target(), inspect(() -> vm.diskCapacity(disk.target()), name));
        }
        return capacities;
    }

    /**
     * The pull job of {@code live} mode. Its NBD server listens on a unix socket in the scratch
     * folder when the hypervisor is this machine; on another machine, on TCP (a socket there would
     * be out of reach), with the scratch files where libvirt puts them there.
     */
    private LiveHold liveHold(VirtualMachine vm, String name, ChainPlan plan, DiskSelection selection,
                              Map<String, Long> capacities, Path scratchFolder, BackupDirectory directory,
                              Qcow2Writer writer, RecoveryJournal journal) {
        List<String> targets = selection.toCopy().stream().map(Disk::target).toList();
        Set<String> wholeDisks = selection.toCopy().stream().filter(disk -> !LiveHold.keepsBitmap(disk))
                .map(Disk::target).collect(Collectors.toSet());
        boolean anyBitmap = wholeDisks.size() < targets.size();
        String checkpoint = anyBitmap ? Checkpoints.nameFor(directory.completePath().getFileName().toString()) : null;
        boolean local = URI.create(hypervisor.uri()).getHost() == null;
        PullBackupRequest pull = new PullBackupRequest(targets, local ? scratchFolder : null, plan.incrementalFrom(),
                checkpoint, wholeDisks);
        return new LiveHold(vm, name, plan, pull, scratchFolder, capacities, directory::file, writer, copier,
                log, () -> cancelled, journal);
    }

    /** The backup's place in its chain, with the checkpoint's XML as libvirt now holds it. */
    private Increment increment(VirtualMachine vm, String name, ChainPlan plan, LiveHold hold) throws BackupException {
        String checkpoint = hold.checkpointName();
        return plan.increment(checkpoint == null ? null
                : new Increment.Checkpoint(checkpoint, inspect(() -> vm.checkpointXml(checkpoint), name)),
                hold.diskChains());
    }

    /** Whether to freeze the guest's file systems around the hold; says so when it cannot. */
    private boolean quiesce(BackupRequest request, DomainState found) {
        if (!request.quiesce()) {
            return false;
        }
        if (!request.mode().canQuiesce() || found != DomainState.RUNNING) {
            log.notice("--quiesce applies to a running domain in the live modes only: ignored");
            return false;
        }
        return true;
    }

    /** Holds the guest, copies the disks, puts the guest back; returns the guest's downtime. */
    private Downtime copyWhileHeld(GuestHold hold, DiskSelection selection, Map<String, BackingChain> chains,
                                   ChainCopy diskCopy, BackupDirectory directory, List<BackedUpFile> files,
                                   boolean wasActive, VirtualMachine quiesced, RecoveryJournal journal)
            throws BackupException, IOException {
        synchronized (this) {
            if (cancelled) {
                throw new CopyCancelledException("backup stopped before the domain was touched");
            }
            activeHold = hold;
        }
        long held = System.nanoTime();
        Exception failure = null;
        try {
            holdQuiesced(hold, quiesced, journal);
            files.addAll(hold.copy(selection.toCopy(),
                    (disk, readFrom) -> diskCopy.copy(disk, chains.get(disk.target()), directory, readFrom)));
        } catch (BackupException | IOException | RuntimeException e) {
            failure = e;
        } finally {
            putBack(hold, failure);
        }
        Downtime downtime = !wasActive ? Downtime.notRunning()
                : hold.downtime().orElse(Downtime.measured(System.nanoTime() - held));
        if (failure instanceof BackupException backupFailure) {
            throw backupFailure;
        }
        if (failure instanceof IOException ioFailure) {
            throw ioFailure;
        }
        if (failure != null) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "internal error: " + failure, failure);
        }
        return downtime;
    }

    /** Holds the guest; with {@code quiesced} set, its file systems are frozen for that moment. */
    private void holdQuiesced(GuestHold hold, VirtualMachine quiesced, RecoveryJournal journal)
            throws BackupException {
        if (quiesced == null) {
            hold.hold();
        } else {
            new FileSystemFreeze(quiesced, journal.domain(), log).around(journal, hold::hold);
        }
    }

    private void putBack(GuestHold hold, Exception failure) throws BackupException {
        try {
            hold.putBack();
        } catch (BackupException notRestored) {
            if (failure instanceof BackupException || failure instanceof IOException) {
                // The cause is worth a line of its own before the louder news.
                report(asBackupFailure(failure));
            }
            throw notRestored;
        } finally {
            synchronized (this) {
                activeHold = null;
            }
        }
    }

    /** {@code --verify}: reads every file back from disk and checks it against its chunk index. */
    private void readBack(BackupDirectory directory, List<BackedUpFile> files) throws BackupException, IOException {
        for (BackedUpFile file : files) {
            List<String> problems = copier.readBack(directory.file(file.name()), file.digest());
            if (!problems.isEmpty()) {
                throw new BackupException(ExitStatus.BACKUP_FAILED, "reading back " + file.name() + " failed: "
                        + problems.get(0));
            }
        }
        log.detail("read back " + files.size() + " file(s): every chunk matches what was written");
    }

    private static void writeSynced(Path file, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        try (FileChannel channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.DSYNC), PosixFilePermissions.asFileAttribute(BackupDirectory.FILE_MODE))) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }
    }

    private void finishJournal(RecoveryJournal journal) {
        try {
            journal.finished();
        } catch (IOException e) {
            log.warning("cannot remove the recovery journal: " + e.getMessage());
        }
    }

    private void abandon(BackupDirectory directory, boolean keepForRecovery, RecoveryJournal journal) {
        try {
            if (keepForRecovery) {
                log.critical("the unfinished backup is kept for recovery in " + directory.partialPath()
                        + "; run 'virt-backup recover' once the cause is fixed");
                log.stopRecording();
            } else {
                log.stopRecording();
                directory.discard();
                journal.backupSettled();
            }
        } catch (IOException e) {
            log.warning("cannot remove the unfinished backup " + directory.partialPath() + ": " + e.getMessage());
        }
    }

    @FunctionalInterface
    private interface HypervisorQuery<T> {
        T get() throws HypervisorException;
    }
}
