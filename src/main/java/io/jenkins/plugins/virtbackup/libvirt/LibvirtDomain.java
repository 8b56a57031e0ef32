package io.jenkins.plugins.virtbackup.libvirt;

import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.libvirt.Domain;
import org.libvirt.DomainBlockInfo;
import org.libvirt.LibvirtException;

/** One libvirt domain as the engine's {@link VirtualMachine}. */
final class LibvirtDomain implements VirtualMachine {
    /** virDomainXMLFlags: the persistent definition, not the running one. Secure info is left out. */
    private static final int VIR_DOMAIN_XML_INACTIVE = 2;

    private final Domain domain;
    private final LibvirtErrors errors;

    LibvirtDomain(Domain domain, LibvirtErrors errors) {
        this.domain = domain;
        this.errors = errors;
    }

    @Override
    public String name() throws HypervisorException {
        return errors.call("read the domain name", domain::getName);
    }

    @Override
    public String uuid() throws HypervisorException {
        return errors.call("read the domain UUID", domain::getUUIDString);
    }

    @Override
    public DomainState state() throws HypervisorException {
        switch (errors.call("read the domain state", domain::getInfo).state) {
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
        return errors.call("ask whether the domain is persistent", domain::isPersistent) == 1;
    }

    @Override
    public String definitionXml() throws HypervisorException {
        return errors.call("read the domain definition", () -> domain.getXMLDesc(VIR_DOMAIN_XML_INACTIVE));
    }

    @Override
    public List<Disk> disks() throws HypervisorException {
        return DomainXml.disks(errors.call("read the domain's disks", () -> domain.getXMLDesc(0)));
    }

    @Override
    public long memoryBytes() throws HypervisorException {
        return errors.call("read the domain's memory size", domain::getInfo).memory * 1024;
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
        errors.run("shut down", domain::shutdown);
    }

    @Override
    public void forceOff() throws HypervisorException {
        errors.run("force off", domain::destroy);
    }

    @Override
    public void start() throws HypervisorException {
        errors.call("start", domain::create);
    }

    @Override
    public void pause() throws HypervisorException {
        errors.run("pause", domain::suspend);
    }

    @Override
    public void resume() throws HypervisorException {
        errors.run("resume", domain::resume);
    }

    @Override
    public void saveState(Path file) throws HypervisorException {
        errors.run("save state to " + file, () -> domain.save(file.toString()));
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
