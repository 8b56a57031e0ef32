package io.jenkins.plugins.virtbackup.testing;


import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A small tmpfs mounted for one test: the real way to get a full or read-only file system.
 * Needs root (CI runs as root); elsewhere the test is skipped, saying why.
 */
public final class TmpfsMount implements AutoCloseable {
    private final Path dir;

    private TmpfsMount(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs on {@code dir} (created if needed) with the given mount options, e.g. {@code size=4m}. */
    public static TmpfsMount mount(Path dir, String options) throws IOException {
        HostRequirement.requireRoot("mounting a tmpfs");
        Files.createDirectories(dir);
        Host.run("mount", "-t", "tmpfs", "-o", options, "virt-backup-test", dir.toString());
        return new TmpfsMount(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Makes the mounted file system read-only. */
    public void remountReadOnly() throws IOException {
        Host.run("mount", "-o", "remount,ro", dir.toString());
    }

    @Override
    public void close() throws IOException {
        Host.run("umount", dir.toString());
    }
}
