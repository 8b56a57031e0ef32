package io.jenkins.plugins.virtbackup.libvirt;

import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.DomainIdentity;
import io.jenkins.plugins.virtbackup.engine.Hypervisor;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.restore.DefinitionChanges;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.ErrorCallback;
import org.libvirt.LibvirtException;

/** The engine's {@link Hypervisor} on libvirt, through libvirt-java. */
public final class LibvirtHypervisor implements Hypervisor {
    /**
     * Without a handler of its own, libvirt prints every error to stderr itself, also those that fail
     * a connection. They reach us as exceptions anyway; their full records go to the error log via
     * {@link LibvirtErrors}. Held in a static field because the native side keeps only a pointer.
     */
    private static final ErrorCallback SILENT = new ErrorCallback();
    /** virDomainCreateFlags: destroy the domain when the connection that started it closes. */
    private static final int VIR_DOMAIN_START_AUTODESTROY = 2;
    /** How long to keep trying to reach a hypervisor whose connection died. */
    private static final Duration RECONNECT_PATIENCE = Duration.ofSeconds(30);

    /** The requested URI (null: libvirt's default), to connect again with. */
    private final String requestedUri;
    private volatile LibvirtConnection connect;
    private final String uri;
    private final LibvirtErrors errors;

    private LibvirtHypervisor(String requestedUri, LibvirtConnection connect, String uri, LibvirtErrors errors) {
        this.requestedUri = requestedUri;
        this.connect = connect;
        this.uri = uri;
        this.errors = errors;
    }

    /**
     * Connects to {@code uri}, or to libvirt's default ({@code LIBVIRT_DEFAULT_URI}, then the
     * built-in choice) when it is null.
     *
     * @param errorReports receives libvirt's full error records for the separate error log
     */
    public static LibvirtHypervisor connect(String uri, Consumer<String> errorReports) throws HypervisorException {
        LibvirtErrors errors = new LibvirtErrors(errorReports);
        try {
            Connect.setErrorCallback(SILENT);
            LibvirtConnection connect = new LibvirtConnection(uri);
            return new LibvirtHypervisor(uri, connect, connect.getURI(), errors);
        } catch (LibvirtException e) {
            throw new HypervisorException(HypervisorException.Kind.UNREACHABLE,
                    "cannot connect to " + (uri == null ? "the default hypervisor" : uri) + ": "
                            + LibvirtErrors.oneLine(e), e);
        }
    }

    @Override
    public String uri() {
        return uri;
    }

    /** One atomic listing (virConnectListAllDomains, no filter): no domain slips between two lists. */
    @Override
    public List<String> domainNames() throws HypervisorException {
        Domain[] domains;
        try {
            domains = errors.call("list the domains", () -> connect.listAllDomains(0));
        } catch (HypervisorException e) {
            if (!reconnectIfDead()) {
                throw e;
            }
            domains = errors.call("list the domains", () -> connect.listAllDomains(0));
        }
        List<String> names = new ArrayList<>();
        for (Domain domain : domains) {
            names.add(errors.call("read the domain name", domain::getName));
        }
        Collections.sort(names);
        return names;
    }

    @Override
    public VirtualMachine lookup(String domainName) throws HypervisorException {
        try {
            return new LibvirtDomain(this, errors.call("look up domain " + domainName,
                    () -> connect.domainLookupByName(domainName)), errors);
        } catch (HypervisorException e) {
            if (!reconnectIfDead()) {
                throw e;
            }
            return new LibvirtDomain(this, errors.call("look up domain " + domainName,
                    () -> connect.domainLookupByName(domainName)), errors);
        }
    }

    @Override
    public void restoreState(Path file) throws HypervisorException {
        try {
            errors.run("restore from " + file, () -> connect.restore(file.toString()));
        } catch (HypervisorException e) {
            if (!reconnectIfDead()) {
                throw e;
            }
            errors.run("restore from " + file, () -> connect.restore(file.toString()));
        }
    }

    @Override
    public void restoreState(Path file, String definitionXml) throws HypervisorException {
        if (definitionXml == null) {
            restoreState(file);
            return;
        }
        String error = connect.restore(file.toString(), definitionXml);
        if (error != null) {
            errors.notice("libvirt: restore from " + file + " with a changed definition failed: " + error);
            throw new HypervisorException(HypervisorException.Kind.OTHER, error, null);
        }
    }

    @Override
    public String savedStateDefinition(Path file) throws HypervisorException {
        try {
            return connect.savedDefinition(file.toString());
        } catch (LibvirtConnection.SavedStateException e) {
            errors.notice("libvirt: read the definition in " + file + " failed: " + e.getMessage());
            throw new HypervisorException(HypervisorException.Kind.OTHER, e.getMessage(), e);
        }
    }

    @Override
    public String existingDomain(String name, String uuid) throws HypervisorException {
        Domain found = find("look up domain " + name, () -> connect.domainLookupByName(name));
        String clash = "name";
        if (found == null && uuid != null) {
            found = find("look up domain " + uuid, () -> connect.domainLookupByUUIDString(uuid));
            clash = "UUID";
        }
        if (found == null) {
            return null;
        }
        Domain domain = found;
        return "domain '" + errors.call("read the domain name", domain::getName) + "' (UUID "
                + errors.call("read the domain UUID", domain::getUUIDString) + ") has that " + clash;
    }

    /** The domain a lookup finds; null when there is none. */
    private Domain find(String what, LibvirtErrors.LibvirtCall<Domain> lookup) throws HypervisorException {
        try {
            return errors.call(what, lookup);
        } catch (HypervisorException e) {
            if (e.kind() == HypervisorException.Kind.NOT_FOUND) {
                return null;
            }
            throw e;
        }
    }

    @Override
    public VirtualMachine define(String definitionXml) throws HypervisorException {
        return new LibvirtDomain(this, errors.call("define the domain", () -> connect.domainDefineXML(definitionXml)),
                errors);
    }

    /**
     * Started with autodestroy: libvirt destroys the domain when this connection closes, so a run
     * killed with SIGKILL leaves no clone running. The test driver knows no such flag and gets none.
     */
    @Override
    public VirtualMachine startTransient(String definitionXml) throws HypervisorException {
        int flags = uri.startsWith("test:") ? 0 : VIR_DOMAIN_START_AUTODESTROY;
        return new LibvirtDomain(this, errors.call("start a transient domain",
                () -> connect.domainCreateXML(definitionXml, flags)), errors);
    }

    @Override
    public List<Disk> definedDisks(String definitionXml) {
        return DomainXml.disks(definitionXml);
    }

    @Override
    public DomainIdentity identity(String definitionXml) {
        return DomainXml.identity(definitionXml);
    }

    @Override
    public boolean hasGuestAgentChannel(String definitionXml) {
        return DomainXml.agentChannel(definitionXml) != DomainXml.AgentChannel.NONE;
    }

    @Override
    public boolean hasSerialPort(String definitionXml) {
        return DomainXml.hasDevice(definitionXml, "serial");
    }

    @Override
    public String rewriteDefinition(String definitionXml, DefinitionChanges changes) {
        DefinitionRewrite.Result result = DefinitionRewrite.apply(definitionXml, changes);
        return result.changed() ? result.xml() : null;
    }

    /** The handle of a domain on the current connection. */
    Domain handle(String uuid) throws HypervisorException {
        return errors.call("look up domain " + uuid, () -> connect.domainLookupByUUIDString(uuid));
    }

    /**
     * Connects again if the connection is dead (libvirtd restarted or the link dropped), trying for
     * up to {@link #RECONNECT_PATIENCE}: a restarting daemon takes a few seconds to answer.
     *
     * @return true when a new connection replaced a dead one, so a failed call is worth retrying
     */
    synchronized boolean reconnectIfDead() {
        try {
            if (connect.isAlive()) {
                return false;
            }
        } catch (LibvirtException e) {
            // Cannot even ask: treat as dead.
        }
        long deadline = System.nanoTime() + RECONNECT_PATIENCE.toNanos();
        while (true) {
            try {
                connect = new LibvirtConnection(requestedUri);
                errors.notice("libvirt: the connection to " + uri + " was lost and has been re-established");
                return true;
            } catch (LibvirtException e) {
                if (System.nanoTime() > deadline) {
                    errors.report("reconnect to " + uri, e);
                    return false;
                }
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    @Override
    public void close() {
        try {
            connect.close();
        } catch (LibvirtException e) {
            errors.report("close connection", e);
        }
    }
}
