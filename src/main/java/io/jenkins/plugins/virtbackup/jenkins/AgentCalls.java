package io.jenkins.plugins.virtbackup.jenkins;

import hudson.remoting.VirtualChannel;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import jenkins.MasterToSlaveFileCallable;
import jenkins.security.MasterToSlaveCallable;

/**
 * The small pieces of work done on the node that runs the step. Each carries strings only: no build,
 * no step, no listener crosses to the agent.
 */
final class AgentCalls {
    private AgentCalls() {
    }

    /** The node's own {@code java}: the one its agent runs on. */
    static final class JavaCommand extends MasterToSlaveCallable<String, IOException> {
        private static final long serialVersionUID = 1L;

        @Override
        public String call() {
            return Path.of(System.getProperty("java.home"), "bin", "java").toString();
        }
    }

    /**
     * Whether the cache folder already holds the jar with this checksum. A file of that name with
     * other content (a copy cut short) is removed, so that it is copied again.
     */
    static final class CheckCachedJar extends MasterToSlaveFileCallable<Boolean> {
        private static final long serialVersionUID = 1L;
        private final String fileName;
        private final String sha256;

        CheckCachedJar(String fileName, String sha256) {
            this.fileName = fileName;
            this.sha256 = sha256;
        }

        @Override
        public Boolean invoke(File cacheDir, VirtualChannel channel) throws IOException {
            File jar = new File(cacheDir, fileName);
            if (!jar.isFile()) {
                return false;
            }
            if (BundledCli.sha256(jar).equals(sha256)) {
                return true;
            }
            Files.delete(jar.toPath());
            return false;
        }
    }

    /**
     * Checks a freshly copied temporary file and gives it its cached name in one rename, so that
     * concurrent builds on the node never run a half-copied jar.
     */
    static final class CommitCachedJar extends MasterToSlaveFileCallable<Void> {
        private static final long serialVersionUID = 1L;
        private final String tempName;
        private final String fileName;
        private final String sha256;

        CommitCachedJar(String tempName, String fileName, String sha256) {
            this.tempName = tempName;
            this.fileName = fileName;
            this.sha256 = sha256;
        }

        @Override
        public Void invoke(File cacheDir, VirtualChannel channel) throws IOException {
            Path temp = cacheDir.toPath().resolve(tempName);
            String copied = BundledCli.sha256(temp.toFile());
            if (!copied.equals(sha256)) {
                Files.deleteIfExists(temp);
                throw new IOException("the copy of the engine's jar in " + cacheDir + " has checksum " + copied
                        + ", expected " + sha256);
            }
            Files.move(temp, cacheDir.toPath().resolve(fileName), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            return null;
        }
    }
}
