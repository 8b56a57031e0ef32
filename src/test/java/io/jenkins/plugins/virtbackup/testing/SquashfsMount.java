package io.jenkins.plugins.virtbackup.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A squashfs image of a folder, loop-mounted read-only: a real file system that refuses O_DIRECT
 * (it has no direct I/O), where tmpfs on current kernels accepts it. Needs root and mksquashfs
 * (squashfs-tools); without them the test is skipped, saying why, except under CI=true, where it fails.
 */
public final class SquashfsMount implements AutoCloseable {
    private final Path dir;

    private SquashfsMount(Path dir) {
        this.dir = dir;
    }

    /** Packs {@code content} into an image in {@code workDir} and mounts it there. */
    public static SquashfsMount of(Path content, Path workDir) throws IOException {
        HostRequirement.requireRoot("mounting a squashfs image");
        HostRequirement.requireCommand("mksquashfs", "squashfs-tools");
        Path image = workDir.resolve(content.getFileName() + ".squashfs");
        Host.run("mksquashfs", content.toString(), image.toString(), "-noappend", "-no-progress", "-quiet");
        Path mountPoint = Files.createDirectories(workDir.resolve(content.getFileName() + ".mounted"));
        Host.run("mount", "-t", "squashfs", "-o", "loop,ro", image.toString(), mountPoint.toString());
        return new SquashfsMount(mountPoint);
    }

    public Path dir() {
        return dir;
    }

    @Override
    public void close() throws IOException {
        Host.run("umount", dir.toString());  // the loop device goes with it (autoclear)
    }
}
