package io.jenkins.plugins.virtbackup.qemu;

import static org.junit.jupiter.api.Assertions.fail;

import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.HostRequirement;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real hypervisor the integration tests use: libvirtd at {@code qemu:///system} (started by
 * {@code bin/test}) and the tiny test guest, built once per machine from Debian packages by the
 * project's own recipe ({@code src/test/guest/build-test-guest.sh}) and cached by its checksum.
 */
final class QemuTestBed {
    static final String URI = "qemu:///system";
    /** Where test domains keep their disks, logs and sockets; one folder per domain. */
    static final Path WORK = Path.of("/var/lib/virt-backup-tests");
    private static final Path RECIPE = Path.of("src/test/guest/build-test-guest.sh");
    private static final Path CACHE = Path.of("/var/cache/virt-backup-tests");
    /** Set by bin/test: a missing hypervisor is then a failure, not a reason to skip. */
    private static final String REQUIRED_ENV = "VIRT_BACKUP_REQUIRE_QEMU";

    private static Path guest;

    private QemuTestBed() {
    }

    /** Checks the hypervisor answers and the guest is built; skips (or fails under bin/test) otherwise. */
    static synchronized Path guest() throws IOException {
        if (guest != null) {
            return guest;
        }
        try {
            Host.run("virsh", "-c", URI, "version");
        } catch (IOException e) {
            if ("1".equals(System.getenv(REQUIRED_ENV))) {
                fail("libvirtd does not answer at " + URI + ": " + e.getMessage());
            }
            HostRequirement.require(false, "no libvirtd at " + URI + " (bin/test starts one): " + e.getMessage());
        }
        Path out = CACHE.resolve("guest-" + Trees.sha256(RECIPE).substring(0, 12));
        if (!Files.exists(out.resolve("build-info.txt"))) {
            Host.run("env", "OUT=" + out, "bash", RECIPE.toString());
        }
        Files.createDirectories(WORK);
        guest = out;
        return guest;
    }

    /** The folder for test domains and backups, once the bed is known to work. */
    static Path guestWorkDir() throws IOException {
        guest();
        return WORK;
    }

    /** The domain type: 'kvm' where /dev/kvm runs real guests (VT-x/AMD-V), else TCG ('qemu'). */
    static String domainType() throws IOException {
        boolean hardware = Files.exists(Path.of("/dev/kvm"))
                && Files.readString(Path.of("/proc/cpuinfo")).matches("(?s).*\\b(vmx|svm)\\b.*");
        return hardware ? "kvm" : "qemu";
    }
}
