package io.jenkins.plugins.virtbackup.engine;

import java.nio.file.Path;
import java.util.List;

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

    void pause() throws HypervisorException;

    void resume() throws HypervisorException;

    /** Saves RAM and device state to {@code file} and stops the domain. */
    void saveState(Path file) throws HypervisorException;
}
