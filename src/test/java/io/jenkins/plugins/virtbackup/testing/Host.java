package io.jenkins.plugins.virtbackup.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Host commands the tests need and Java lacks: mount, losetup, stat. */
public final class Host {
    private Host() {
    }

    /** Runs a command, failing with its output unless it exits 0. */
    public static String run(String... command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
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
