package io.jenkins.plugins.virtbackup.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
        assumeTrue("root".equals(System.getProperty("user.name")), "mounting a tmpfs needs root");
        Files.createDirectories(dir);
        run("mount", "-t", "tmpfs", "-o", options, "virt-backup-test", dir.toString());
        return new TmpfsMount(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Makes the mounted file system read-only. */
    public void remountReadOnly() throws IOException {
        run("mount", "-o", "remount,ro", dir.toString());
    }

    @Override
    public void close() throws IOException {
        run("umount", dir.toString());
    }

    /** Runs a command, failing with its output unless it exits 0. */
    public static String run(String... command) throws IOException {
        List<String> args = new ArrayList<>(List.of(command));
        Process process = new ProcessBuilder(args).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return output;
    }

    /** Bytes a file really occupies on disk (st_blocks * 512), which Java cannot read itself. */
    public static long allocatedBytes(Path file) throws IOException {
        return Long.parseLong(run("stat", "-c", "%b", file.toString()).strip()) * 512;
    }
}
