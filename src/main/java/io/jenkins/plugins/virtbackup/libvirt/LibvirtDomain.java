package io.jenkins.plugins.virtbackup.libvirt;

import io.jenkins.plugins.virtbackup.engine.BlockJobState;
import io.jenkins.plugins.virtbackup.engine.CheckpointCheck;
import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.JobProgress;
import io.jenkins.plugins.virtbackup.engine.PullBackupExport;
import io.jenkins.plugins.virtbackup.engine.PullBackupRequest;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.copy.BlockSource;
import io.jenkins.plugins.virtbackup.engine.modes.FreezeResult;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.libvirt.Domain;
import org.libvirt.Domain.BlockCommitFlags;
import org.libvirt.Domain.BlockJobAbortFlags;
import org.libvirt.Domain.CheckpointCreateFlags;
import org.libvirt.Domain.CheckpointListFlags;
import org.libvirt.Domain.SnapshotCreateFlags;
import org.libvirt.DomainBlockInfo;
import org.libvirt.DomainCheckpoint;
import org.libvirt.DomainJobInfo;
import org.libvirt.DomainJobStats;
import org.libvirt.Error;
import org.libvirt.LibvirtException;
import org.libvirt.TypedParameter;

/** One libvirt domain as the engine's {@link VirtualMachine}. */
final class LibvirtDomain implements VirtualMachine {
    /** virDomainXMLFlags: the persistent definition, not the running one. Secure info is left out. */
    private static final int VIR_DOMAIN_XML_INACTIVE = 2;
    /** virDomainJobType values and virDomainGetJobStats flags (libvirt-java names none of them). */
    private static final int VIR_DOMAIN_JOB_NONE = 0;
    private static final int VIR_DOMAIN_JOB_STATS_COMPLETED = 1;
    private static final int AGENT_TIMEOUT_SECONDS = 5;
    private static final int PING_TIMEOUT_SECONDS = 2;
    /** virDomainUndefineFlags: managed save, snapshot metadata, NVRAM and checkpoint metadata too. */
    private static final int VIR_DOMAIN_UNDEFINE_EVERYTHING = 1 | 2 | 4 | 16;

    private final LibvirtHypervisor hypervisor;
    private final LibvirtErrors errors;
    private final String uuid;
    /** The handle on the current connection; replaced when the connection is re-established. */
    private volatile Domain domain;

    LibvirtDomain(LibvirtHypervisor hypervisor, Domain domain, LibvirtErrors errors) throws HypervisorException {
        this.hypervisor = hypervisor;
        this.domain = domain;
        this.errors = errors;
        this.uuid = errors.call("read the domain UUID", domain::getUUIDString);
    }

    @FunctionalInterface
    private interface DomainCall<T> {
        T call(Domain domain) throws LibvirtException;
    }

    @FunctionalInterface
    private interface DomainAction {
        void run(Domain domain) throws LibvirtException;
    }

    /**
     * Calls libvirt for this domain. When the call fails because the connection died (libvirtd
     * restarted, say), connects again, finds the domain again and retries once: the step that puts
     * a domain back must not fail just because the daemon was restarted meanwhile.
     */
    private <T> T call(String what, DomainCall<T> call) throws HypervisorException {
        try {
            Domain current = domain;
            return errors.call(what, () -> call.call(current));
        } catch (HypervisorException e) {
            if (!hypervisor.reconnectIfDead()) {
                throw e;
            }
            domain = hypervisor.handle(uuid);
            Domain current = domain;
            return errors.call(what, () -> call.call(current));
        }
    }

    private void run(String what, DomainAction action) throws HypervisorException {
        call(what, d -> {
            action.run(d);
            return null;
        });
    }

    @Override
    public String name() throws HypervisorException {
        return call("read the domain name", d -> d.getName());
    }

    @Override
    public String uuid() throws HypervisorException {
        return uuid;
    }

    @Override
    public DomainState state() throws HypervisorException {
        switch (call("read the domain state", d -> d.getInfo()).state) {
            case VIR_DOMAIN_RUNNING:
            case VIR_DOMAIN_BLOCKED:
                return DomainState.RUNNING;
            case VIR_DOMAIN_PAUSED:
                return DomainState.PAUSED;
            case VIR_DOMAIN_SHUTOFF:
                return DomainState.SHUT_OFF;
            default:
                return DomainState.OTHER;
        }
    }

    @Override
    public boolean isPersistent() throws HypervisorException {
        return call("ask whether the domain is persistent", d -> d.isPersistent()) == 1;
    }

    @Override
    public String definitionXml() throws HypervisorException {
        return call("read the domain definition", d -> d.getXMLDesc(VIR_DOMAIN_XML_INACTIVE));
    }

    @Override
    public List<Disk> disks() throws HypervisorException {
        return DomainXml.disks(call("read the domain's disks", d -> d.getXMLDesc(0)));
    }

    @Override
    public long memoryBytes() throws HypervisorException {
        return call("read the domain's memory size", d -> d.getInfo()).memory * 1024;
    }

    @Override
    public long estimatedCopyBytes(Disk disk) throws HypervisorException {
        // A sparse-aware copy writes what is allocated. libvirt knows that for images of a running
        // domain; not every driver answers, and some answer nonsense (the test driver says 1 TiB),
        // so the source's length (a block device's size) caps the figure.
        long length = sourceLength(disk);
        long reported = reportedAllocation(disk);
        return reported >= 0 ? Math.min(reported, length) : length;
    }

    /** libvirt's allocation (physical size for block devices), or -1 when it does not say. */
    private long reportedAllocation(Disk disk) {
        try {
            DomainBlockInfo info = domain.blockInfo(disk.target());
            return "block".equals(disk.type()) ? info.getPhysical() : info.getAllocation();
        } catch (LibvirtException e) {
            return -1;
        }
    }

    @Override
    public void requestShutdown() throws HypervisorException {
        run("shut down", d -> d.shutdown());
    }

    @Override
    public void forceOff() throws HypervisorException {
        run("force off", d -> d.destroy());
    }

    @Override
    public void start() throws HypervisorException {
        call("start", d -> d.create());
    }

    @Override
    public void undefine() throws HypervisorException {
        try {
            run("undefine", d -> d.undefine(VIR_DOMAIN_UNDEFINE_EVERYTHING));
        } catch (HypervisorException e) {
            // A driver without NVRAM or checkpoints (the test driver) refuses those flags.
            run("undefine", d -> d.undefine(0));
        }
    }

    @Override
    public boolean pingGuestAgent() throws HypervisorException {
        DomainXml.AgentChannel channel = agentChannel();
        if (channel == DomainXml.AgentChannel.NONE || channel == DomainXml.AgentChannel.DISCONNECTED) {
            return false;
        }
        try {
            domain.qemuAgentCommand("{\"execute\":\"guest-ping\"}", PING_TIMEOUT_SECONDS, 0);
            return true;
        } catch (LibvirtException notYet) {
            return false;  // a booting guest's agent is not listening yet: not worth a report
        }
    }

    @Override
    public void pause() throws HypervisorException {
        run("pause", d -> d.suspend());
    }

    @Override
    public void resume() throws HypervisorException {
        run("resume", d -> d.resume());
    }

    @Override
    public void saveState(Path file) throws HypervisorException {
        run("save state to " + file, d -> d.save(file.toString()));
    }

    @Override
    public long createExternalSnapshot(Map<String, Path> overlays, Path memoryFile) throws HypervisorException {
        StringBuilder xml = new StringBuilder("<domainsnapshot><name>virt-backup-")
                .append(System.currentTimeMillis()).append("</name>");
        xml.append(memoryFile == null ? "<memory snapshot='no'/>"
                : "<memory snapshot='external' file='" + Xml.escape(memoryFile.toString()) + "'/>");
        xml.append("<disks>");
        for (Disk disk : disks()) {
            Path overlay = overlays.get(disk.target());
            xml.append("<disk name='").append(Xml.escape(disk.target())).append("' ");
            xml.append(overlay == null ? "snapshot='no'/>" : "snapshot='external'><driver type='qcow2'/><source file='"
                    + Xml.escape(overlay.toString()) + "'/></disk>");
        }
        xml.append("</disks></domainsnapshot>");
        // No metadata: nothing is left in libvirt to trip later backups; atomic: all disks or none.
        int flags = SnapshotCreateFlags.NO_METADATA | SnapshotCreateFlags.ATOMIC
                | (memoryFile == null ? SnapshotCreateFlags.DISK_ONLY : SnapshotCreateFlags.LIVE);
        call("create external snapshot", d -> d.snapshotCreateXML(xml.toString(), flags));
        return memoryFile == null ? -1 : lastJobDowntimeMillis();
    }

    @Override
    public void beginOverlayCommit(String target) throws HypervisorException {
        // Shallow: the overlay goes into the image right below it (the disk's own top image), never
        // further down a chain whose lower images other domains may share.
        run("start block commit of " + target,
                d -> d.blockCommit(target, null, null, 0, BlockCommitFlags.ACTIVE | BlockCommitFlags.SHALLOW));
    }

    @Override
    public BlockJobState blockJobState(String target) throws HypervisorException {
        return switch (DomainXml.mirrorState(call("read the live definition", d -> d.getXMLDesc(0)), target)) {
            case NONE -> BlockJobState.NONE;
            case RUNNING -> BlockJobState.RUNNING;
            case READY -> BlockJobState.READY;
        };
    }

    @Override
    public void pivot(String target) throws HypervisorException {
        run("pivot " + target + " back to its image", d -> d.blockJobAbort(target, BlockJobAbortFlags.PIVOT));
    }

    @Override
    public void beginPullBackup(PullBackupRequest request) throws HypervisorException {
        List<String> targets = disks().stream().map(Disk::target).toList();
        String job = PullJobXml.backup(request, targets, hypervisor.uri());
        String checkpoint = PullJobXml.checkpoint(request, targets);
        run("begin backup job", d -> d.backupBegin(job, checkpoint, 0));
    }

    @Override
    public PullBackupExport pullBackupExport() throws HypervisorException {
        String job = call("read the backup job", d -> d.getBackupXMLDesc(0));
        try {
            return new NbdExports(PullJobXml.served(job));
        } catch (IllegalArgumentException e) {
            throw new HypervisorException(HypervisorException.Kind.OTHER, e.getMessage(), e);
        }
    }

    /** The exports of a running job, read with libnbd. */
    private static final class NbdExports implements PullBackupExport {
        private final PullJobXml.Served served;

        NbdExports(PullJobXml.Served served) {
            this.served = served;
        }

        @Override
        public BlockSource open(String target) throws IOException {
            PullJobXml.Export export = served.exports().get(target);
            if (export == null) {
                throw new IOException("the backup job exports no disk " + target);
            }
            String context = export.bitmap() == null ? NbdSource.BASE_ALLOCATION : NbdSource.dirtyBitmap(export.bitmap());
            return served.socket() != null ? NbdSource.connectUnix(Path.of(served.socket()), export.name(), context)
                    : NbdSource.connectTcp(served.host(), served.port(), export.name(), context);
        }

        @Override
        public String uri(String target) {
            PullJobXml.Export export = served.exports().get(target);
            String name = uriEscaped(export.name());
            return served.socket() != null
                    ? "nbd+unix:///" + name + "?socket=" + uriEscaped(served.socket())
                    : "nbd://" + served.host() + ":" + served.port() + "/" + name;
        }

        /** Percent-encodes all but the characters a path needs: QEMU decodes the URI's parts. */
        private static String uriEscaped(String text) {
            StringBuilder escaped = new StringBuilder();
            for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
                char c = (char) (b & 0xff);
                boolean plain = c < 0x80 && (Character.isLetterOrDigit(c) || "/._-".indexOf(c) >= 0);
                escaped.append(plain ? String.valueOf(c) : String.format("%%%02X", b & 0xff));
            }
            return escaped.toString();
        }

        @Override
        public String address() {
            return served.socket() != null ? served.socket() : served.host() + ":" + served.port();
        }
    }

    @Override
    public long diskCapacity(String target) throws HypervisorException {
        return call("read the size of disk " + target, d -> d.blockInfo(target)).getCapacity();
    }

    @Override
    public List<String> checkpointNames() throws HypervisorException {
        return call("list checkpoints", d -> {
            List<String> names = new ArrayList<>();
            for (DomainCheckpoint checkpoint : d.listAllCheckpoints(CheckpointListFlags.TOPOLOGICAL)) {
                names.add(checkpoint.getName());
                checkpoint.free();
            }
            return names;
        });
    }

    @Override
    public String checkpointXml(String name) throws HypervisorException {
        return call("read checkpoint " + name, d -> {
            DomainCheckpoint checkpoint = d.checkpointLookupByName(name);
            try {
                return checkpoint.getXMLDesc(DomainCheckpoint.XMLFlags.NO_DOMAIN);
            } finally {
                checkpoint.free();
            }
        });
    }

    @Override
    public CheckpointCheck validateCheckpoint(String name, String savedXml) throws HypervisorException {
        boolean known = call("look up checkpoint " + name, d -> {
            try {
                d.checkpointLookupByName(name).free();
                return true;
            } catch (LibvirtException e) {
                if (e.getError() != null && e.getError().getCode() == Error.ErrorNumber.VIR_ERR_NO_DOMAIN_CHECKPOINT) {
                    return false;
                }
                throw e;
            }
        });
        String xml = known ? checkpointXml(name) : savedXml;
        try {
            // Redefining with validation makes libvirt check that every disk's bitmap exists and is
            // consistent: QEMU killed while running leaves them marked in use, thus inconsistent.
            domain.checkpointCreateXML(xml, CheckpointCreateFlags.REDEFINE | CheckpointCreateFlags.REDEFINE_VALIDATE)
                    .free();
            return new CheckpointCheck(null, !known);
        } catch (LibvirtException e) {
            errors.report("validate checkpoint " + name, e);
            return new CheckpointCheck(LibvirtErrors.oneLine(e), false);
        }
    }

    /**
     * A checkpoint whose bitmap QEMU dropped (it found it inconsistent after a crash) cannot be
     * deleted whole: libvirt fails to find the bitmap. Its metadata is then all that is left to delete.
     */
    @Override
    public void deleteCheckpoint(String name) throws HypervisorException {
        run("delete checkpoint " + name, d -> {
            DomainCheckpoint checkpoint = d.checkpointLookupByName(name);
            try {
                checkpoint.delete(0);
            } catch (LibvirtException e) {
                errors.notice("libvirt: checkpoint " + name + " cannot be deleted with its bitmaps ("
                        + LibvirtErrors.oneLine(e) + "); deleting its metadata only");
                checkpoint.delete(DomainCheckpoint.CheckpointDeleteFlags.METADATA_ONLY);
            } finally {
                checkpoint.free();
            }
        });
    }

    @Override
    public JobProgress currentJob() throws HypervisorException {
        DomainJobInfo job = call("read the current job", d -> d.getJobInfo());
        return new JobProgress(job.getType() != VIR_DOMAIN_JOB_NONE, job.getDataProcessed(), job.getDataTotal());
    }

    /** The downtime of the job that ended last (a RAM snapshot just taken), as libvirt reports it; -1 if not. */
    private long lastJobDowntimeMillis() throws HypervisorException {
        DomainJobStats stats = call("read completed job", d -> d.getJobStats(VIR_DOMAIN_JOB_STATS_COMPLETED));
        for (TypedParameter parameter : stats.stats == null ? new TypedParameter[0] : stats.stats) {
            if ("downtime".equals(parameter.field)) {
                return Long.parseLong(parameter.getValueAsString());
            }
        }
        return -1;
    }

    @Override
    public void abortBackupJob() throws HypervisorException {
        call("abort backup job", d -> d.abortJob());
    }

    @Override
    public FreezeResult freezeFilesystems() throws HypervisorException {
        switch (agentChannel()) {
            case NONE:
                return FreezeResult.noAgent("the domain has no guest agent channel");
            case DISCONNECTED:
                return FreezeResult.noAgent("no guest agent is connected");
            default:
                break;
        }
        try {
            // Not retried after a reconnect: a freeze that may have happened must not be sent twice.
            domain.qemuAgentCommand("{\"execute\":\"guest-fsfreeze-freeze\"}", AGENT_TIMEOUT_SECONDS, 0);
            return FreezeResult.frozen();
        } catch (LibvirtException e) {
            errors.report("freeze guest file systems", e);
            return LibvirtErrors.reachedNoGuest(e) ? FreezeResult.noAgent(LibvirtErrors.oneLine(e))
                    : FreezeResult.uncertain(LibvirtErrors.oneLine(e));
        }
    }

    @Override
    public void thawFilesystems() throws HypervisorException {
        if (agentChannel() == DomainXml.AgentChannel.NONE) {
            return;  // no agent, nothing can have been frozen
        }
        call("thaw guest file systems",
                d -> d.qemuAgentCommand("{\"execute\":\"guest-fsfreeze-thaw\"}", AGENT_TIMEOUT_SECONDS, 0));
    }

    /** Whether the domain has a guest agent channel, and whether an agent listens on it now. */
    private DomainXml.AgentChannel agentChannel() throws HypervisorException {
        return DomainXml.agentChannel(call("read the domain's devices", d -> d.getXMLDesc(0)));
    }

    /** The length of a file, or the size of a block device (which a file's length would call 0). */
    private static long sourceLength(Disk disk) throws HypervisorException {
        try (FileChannel source = FileChannel.open(Path.of(disk.source()), StandardOpenOption.READ)) {
            return source.size();
        } catch (IOException e) {
            throw new HypervisorException(HypervisorException.Kind.OTHER,
                    "cannot read disk " + disk.target() + " at " + disk.source() + ": " + e.getMessage(), e);
        }
    }
}
