package io.jenkins.plugins.virtbackup.engine.recovery;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Where virt-backup keeps what must outlive a run: one lock and one recovery journal per domain,
 * named by a hash of the hypervisor URI and the domain name (any name is safe that way).
 */
public final class StateDirectory {
    /** The default; {@code --state-dir} changes it. */
    public static final Path DEFAULT = Path.of("/var/lib/virt-backup");

    private final Path root;

    public StateDirectory(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    Path lockFile(String uri, String domain) throws IOException {
        return Files.createDirectories(root.resolve("locks")).resolve(key(uri, domain) + ".lock");
    }

    Path journalFile(String uri, String domain) throws IOException {
        return Files.createDirectories(root.resolve("journal")).resolve(key(uri, domain) + ".json");
    }

    /**
     * The folder of the scratch files and NBD socket of one domain's pull backup jobs. The hypervisor
     * writes there: on another machine, at the same path.
     */
    public Path scratchFolder(String uri, String domain) {
        return root.resolve("scratch").resolve(key(uri, domain));
    }

    /** Every journal left by runs on this hypervisor, for {@code virt-backup recover} without names. */
    Path journalFolder() {
        return root.resolve("journal");
    }

    static String key(String uri, String domain) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256")
                    .digest((uri + "\n" + domain).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
