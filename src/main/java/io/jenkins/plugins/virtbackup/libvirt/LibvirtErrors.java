package io.jenkins.plugins.virtbackup.libvirt;

import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import java.util.function.Consumer;
import org.libvirt.Error;
import org.libvirt.LibvirtException;

/**
 * The one place libvirt's errors become the engine's: a short message for the user, a kind for the
 * engine's decisions, and libvirt's full record for the separate error log.
 */
final class LibvirtErrors {
    private final Consumer<String> reports;

    LibvirtErrors(Consumer<String> reports) {
        this.reports = reports;
    }

    @FunctionalInterface
    interface LibvirtCall<T> {
        T call() throws LibvirtException;
    }

    @FunctionalInterface
    interface LibvirtAction {
        void run() throws LibvirtException;
    }

    /** Runs a libvirt call that returns nothing; see {@link #call}. */
    void run(String what, LibvirtAction action) throws HypervisorException {
        call(what, () -> {
            action.run();
            return null;
        });
    }

    <T> T call(String what, LibvirtCall<T> call) throws HypervisorException {
        try {
            return call.call();
        } catch (LibvirtException e) {
            HypervisorException.Kind kind = kindOf(e.getError());
            if (kind != HypervisorException.Kind.NOT_FOUND) {
                // "No such domain" is an answer, not a hypervisor failure worth a report.
                report(what, e);
            }
            throw new HypervisorException(kind, oneLine(e), e);
        }
    }

    /** A plain line for the error log: something happened that is not a failure. */
    void notice(String line) {
        reports.accept(line);
    }

    void report(String what, LibvirtException e) {
        Error error = e.getError();
        reports.accept("libvirt: " + what + " failed: " + (error == null ? e.getMessage()
                : error.getMessage() + " (code " + error.getCode() + ", domain " + error.getDomain()
                + ", level " + error.getLevel() + ")"));
    }

    static String oneLine(LibvirtException e) {
        String message = e.getError() == null ? e.getMessage() : e.getError().getMessage();
        return message == null ? "unknown libvirt error" : message.replace('\n', ' ').strip();
    }

    /**
     * Whether a failed guest agent command certainly never reached the guest: no agent configured,
     * domain not running, driver without agent commands. A timeout
     * ({@code VIR_ERR_AGENT_UNRESPONSIVE}, newer libvirt's command timeout) or an error reply may
     * come after the guest already acted.
     */
    static boolean reachedNoGuest(LibvirtException e) {
        Error error = e.getError();
        if (error == null || error.getCode() == null) {
            return false;
        }
        switch (error.getCode()) {
            case VIR_ERR_ARGUMENT_UNSUPPORTED:
            case VIR_ERR_OPERATION_INVALID:
            case VIR_ERR_NO_SUPPORT:
                return true;
            default:
                return false;
        }
    }

    private static HypervisorException.Kind kindOf(Error error) {
        if (error == null || error.getCode() == null) {
            return HypervisorException.Kind.OTHER;
        }
        switch (error.getCode()) {
            case VIR_ERR_NO_DOMAIN:
                return HypervisorException.Kind.NOT_FOUND;
            case VIR_ERR_NO_CONNECT:
            case VIR_ERR_INVALID_CONN:
            case VIR_ERR_RPC:
                return HypervisorException.Kind.UNREACHABLE;
            case VIR_ERR_NO_SUPPORT:
                return HypervisorException.Kind.UNSUPPORTED;
            default:
                return HypervisorException.Kind.OTHER;
        }
    }
}
