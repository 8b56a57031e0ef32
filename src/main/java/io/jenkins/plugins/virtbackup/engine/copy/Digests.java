package io.jenkins.plugins.virtbackup.engine.copy;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** The one digest a backup uses. */
public final class Digests {
    private Digests() {
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
