package io.jenkins.plugins.virtbackup.engine;

import java.nio.file.Path;

/** A connection to one hypervisor. Implemented by the libvirt adapter. */
public interface Hypervisor extends AutoCloseable {

    /** The URI this connection reached, for the log and the manifest. */
    String uri();

    /** The domain with this name; {@link HypervisorException.Kind#NOT_FOUND} when there is none. */
    VirtualMachine lookup(String domainName) throws HypervisorException;

    /** Starts a domain again from a state file written by {@link VirtualMachine#saveState}. */
    void restoreState(Path file) throws HypervisorException;

    @Override
    void close();
}
