package io.jenkins.plugins.virtbackup.testing;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A loop device over an image file: a real block device, which has a size but no holes. Needs root
 * and losetup (util-linux); without them the test is skipped, except under CI=true, where it fails.
 */
public final class LoopDevice implements AutoCloseable {
    private final Path device;

    private LoopDevice(Path device) {
        this.device = device;
    }

    public static LoopDevice over(Path image) throws IOException {
        HostRequirement.requireRoot("a loop device");
        HostRequirement.requireCommand("losetup", "util-linux");
        return new LoopDevice(Path.of(Host.run("losetup", "--find", "--show", image.toString()).strip()));
    }

    public Path device() {
        return device;
    }

    @Override
    public void close() throws IOException {
        Host.run("losetup", "-d", device.toString());
    }
}
