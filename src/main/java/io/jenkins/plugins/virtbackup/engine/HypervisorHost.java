package io.jenkins.plugins.virtbackup.engine;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Whether a hypervisor URI names another machine than the one virt-backup runs on. What a mode does
 * with this machine's own tools (LVM's, for snapshot-dm) only reaches the domain's volumes when the
 * hypervisor is here.
 */
public final class HypervisorHost {
    private HypervisorHost() {
    }

    /**
     * The host {@code uri} names, when that is another machine; empty for a URI without a host
     * ({@code qemu:///system}) or whose host is one of this machine's addresses ({@code localhost},
     * its own name). A name that does not resolve here counts as another machine.
     */
    public static Optional<String> otherMachine(String uri) {
        String host = hostOf(uri);
        if (host == null || host.isEmpty()) {
            return Optional.empty();
        }
        try {
            for (InetAddress address : InetAddress.getAllByName(host)) {
                if (address.isLoopbackAddress() || address.isAnyLocalAddress()
                        || NetworkInterface.getByInetAddress(address) != null) {
                    return Optional.empty();
                }
            }
        } catch (UnknownHostException | SocketException e) {
            // not a name of this machine, or none this machine can tell: treated as another one
        }
        return Optional.of(host);
    }

    private static String hostOf(String uri) {
        try {
            URI parsed = new URI(uri);
            if (parsed.getHost() != null) {
                return parsed.getHost();
            }
            // A host name java.net.URI does not take (an underscore, say): read the authority itself.
            String authority = parsed.getRawAuthority();
            if (authority == null) {
                return null;
            }
            String host = authority.substring(authority.lastIndexOf('@') + 1);
            return host.startsWith("[") ? host : host.replaceFirst(":\\d*$", "");
        } catch (URISyntaxException e) {
            return null;  // the connection itself has refused a URI this bad by now
        }
    }
}
