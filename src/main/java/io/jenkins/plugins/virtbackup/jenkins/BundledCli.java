package io.jenkins.plugins.virtbackup.jenkins;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The engine's command line jar that ships inside the plugin, outside its class path: where it is
 * in an installed plugin, and the name it is cached under on each node (by checksum, so a new plugin
 * version brings a new copy and an unchanged one is never copied twice).
 */
public final class BundledCli {
    /** Where the jar is inside the {@code .hpi} (and so in the exploded plugin directory). */
    public static final String PATH_IN_PLUGIN = "WEB-INF/engine/virt-backup-cli.jar";
    /** The folder in a workspace's temporary folder ({@code WORKSPACE@tmp}) that holds the cached copies. */
    public static final String CACHE_DIR = "virt-backup";

    private BundledCli() {
    }

    /**
     * The bundled jar of an installed plugin, found from the plugin's own class jar
     * ({@code PLUGIN_DIR/WEB-INF/lib/virt-backup.jar}).
     */
    public static File locate(File pluginClassesJar) {
        File pluginDir = pluginClassesJar.getAbsoluteFile().getParentFile().getParentFile().getParentFile();
        return new File(pluginDir, PATH_IN_PLUGIN);
    }

    public static String cachedFileName(String sha256) {
        return "virt-backup-cli-" + sha256.substring(0, 16) + ".jar";
    }

    /** Lowercase hex SHA-256 of a file's content. */
    public static String sha256(File file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file.toPath())) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
