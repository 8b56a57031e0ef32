package io.jenkins.plugins.virtbackup.libvirt;

import io.jenkins.plugins.virtbackup.engine.Hypervisor;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import java.nio.file.Path;
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

    private final Connect connect;
    private final String uri;
    private final LibvirtErrors errors;

    private LibvirtHypervisor(Connect connect, String uri, LibvirtErrors errors) {
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
            return new LibvirtHypervisor(connect, connect.getURI(), errors);
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
        Domain domain = errors.call("look up domain " + domainName, () -> connect.domainLookupByName(domainName));
        return new LibvirtDomain(domain, errors);
    }

    @Override
    public void restoreState(Path file) throws HypervisorException {
        errors.run("restore from " + file, () -> connect.restore(file.toString()));
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
