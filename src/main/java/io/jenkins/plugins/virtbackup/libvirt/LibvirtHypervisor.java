package io.jenkins.plugins.virtbackup.libvirt;

import io.jenkins.plugins.virtbackup.engine.Hypervisor;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import java.nio.file.Path;
import java.time.Duration;
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
    /** How long to keep trying to reach a hypervisor whose connection died. */
    private static final Duration RECONNECT_PATIENCE = Duration.ofSeconds(30);

    /** The requested URI (null: libvirt's default), to connect again with. */
    private final String requestedUri;
    private volatile Connect connect;
    private final String uri;
    private final LibvirtErrors errors;

    private LibvirtHypervisor(String requestedUri, Connect connect, String uri, LibvirtErrors errors) {
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
            Connect connect = new Connect(uri, false);
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
                connect = new Connect(requestedUri, false);
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
