package io.jenkins.plugins.virtbackup.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * What a test needs from the host (root, a tool): missing, the test is skipped saying why, except
 * under CI=true, where it fails, since a silent skip in CI hides exactly the bugs the test is for.
 */
public final class HostRequirement {
    private HostRequirement() {
    }

    public static void require(boolean present, String reason) {
        if (!present && "true".equals(System.getenv("CI"))) {
            fail(reason + " (under CI=true this test must run)");
        }
        assumeTrue(present, reason);
    }

    public static void requireRoot(String why) {
        require("root".equals(System.getProperty("user.name")), why + " needs root");
    }

    public static void requireCommand(String command, String debianPackage) {
        boolean found = Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(folder -> !folder.isEmpty() && Files.isExecutable(Path.of(folder, command)));
        require(found, command + " is not installed (Debian package " + debianPackage + ")");
    }

    /** QEMU's image tools and libnbd: what the NBD reader and the qcow2 writer run with. */
    public static void requireQemuToolsAndLibnbd() {
        requireCommand("qemu-nbd", "qemu-utils");
        requireCommand("qemu-img", "qemu-utils");
        requireCommand("qemu-io", "qemu-utils");
        require(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libnbd.so.0")),
                "libnbd is not installed (Debian package libnbd0)");
    }
}
