package io.jenkins.plugins.virtbackup.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.Collections;
import org.junit.jupiter.api.Test;

class HypervisorHostTest {
    @Test
    void aUriWithoutHostIsThisMachine() {
        assertThat(HypervisorHost.otherMachine("qemu:///system")).isEmpty();
        assertThat(HypervisorHost.otherMachine("test:///default")).isEmpty();
        assertThat(HypervisorHost.otherMachine("qemu+unix:///system?socket=/run/libvirt/libvirt-sock")).isEmpty();
    }

    @Test
    void loopbackNamesAndAddressesAreThisMachine() {
        assertThat(HypervisorHost.otherMachine("qemu+ssh://root@localhost/system")).isEmpty();
        assertThat(HypervisorHost.otherMachine("qemu+ssh://root@127.0.0.1:2222/system")).isEmpty();
        assertThat(HypervisorHost.otherMachine("qemu+tcp://[::1]/system")).isEmpty();
    }

    @Test
    void thisMachinesOwnNameAndInterfaceAddressesAreThisMachine() throws Exception {
        String name = InetAddress.getLocalHost().getHostName();
        assertThat(HypervisorHost.otherMachine("qemu+ssh://root@" + name + "/system")).as(name).isEmpty();
        InetAddress own = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
                .flatMap(i -> Collections.list(i.getInetAddresses()).stream())
                .filter(a -> !a.isLoopbackAddress() && a.getAddress().length == 4).findFirst()
                .orElseThrow(() -> new AssertionError("this machine has no IPv4 address but loopback"));
        assertThat(HypervisorHost.otherMachine("qemu+tls://" + own.getHostAddress() + "/system"))
                .as(own.getHostAddress()).isEmpty();
    }

    @Test
    void anyOtherAddressOrUnresolvableNameIsAnotherMachine() {
        // 198.51.100.0/24 is documentation space (RFC 5737): never an address of this machine.
        assertThat(HypervisorHost.otherMachine("qemu+ssh://root@198.51.100.7/system")).contains("198.51.100.7");
        assertThat(HypervisorHost.otherMachine("qemu+ssh://kvm3.invalid:2222/system")).contains("kvm3.invalid");
        // java.net.URI finds no host in a name with an underscore: the authority is read instead.
        assertThat(HypervisorHost.otherMachine("qemu+ssh://admin@kvm_3.invalid:22/system")).contains("kvm_3.invalid");
    }
}
