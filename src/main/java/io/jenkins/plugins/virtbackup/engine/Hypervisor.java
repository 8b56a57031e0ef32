package io.jenkins.plugins.virtbackup.engine;

import io.jenkins.plugins.virtbackup.engine.restore.DefinitionChanges;
import java.nio.file.Path;
import java.util.List;

/** A connection to one hypervisor. Implemented by the libvirt adapter. */
public interface Hypervisor extends AutoCloseable {

    /** The URI this connection reached, for the log and the manifest. */
    String uri();

    /**
     * The names of every domain the hypervisor has: running, paused and shut off, persistent and
     * transient, sorted by name.
     */
    List<String> domainNames() throws HypervisorException;

    /** The domain with this name; {@link HypervisorException.Kind#NOT_FOUND} when there is none. */
    VirtualMachine lookup(String domainName) throws HypervisorException;

    /** Starts a domain again from a state file written by {@link VirtualMachine#saveState}. */
    void restoreState(Path file) throws HypervisorException;

    /**
     * Starts a domain again from a state file, with its saved definition replaced by {@code definitionXml}
     * (disks at new paths, say); null keeps the saved one.
     */
    void restoreState(Path file, String definitionXml) throws HypervisorException;

    /** The domain definition a state file holds, as {@link #restoreState(Path, String)} would change it. */
    String savedStateDefinition(Path file) throws HypervisorException;

    /**
     * Names what already exists with this name or this UUID (a defined or running domain); null when
     * neither does.
     */
    String existingDomain(String name, String uuid) throws HypervisorException;

    /** Defines a persistent domain from its XML; it stays shut off. */
    VirtualMachine define(String definitionXml) throws HypervisorException;

    /** Starts a transient domain from its XML: it vanishes when it stops. */
    VirtualMachine startTransient(String definitionXml) throws HypervisorException;

    /** The disks a domain definition declares, in its order. */
    List<Disk> definedDisks(String definitionXml);

    /** The definition's name and UUID. */
    DomainIdentity identity(String definitionXml);

    /** Whether the definition has a channel for qemu-guest-agent. */
    boolean hasGuestAgentChannel(String definitionXml);

    /** Whether the definition has a serial port (a console the guest can write to). */
    boolean hasSerialPort(String definitionXml);

    /** The definition with {@code changes} applied; null when they change nothing. */
    String rewriteDefinition(String definitionXml, DefinitionChanges changes);

    @Override
    void close();
}
