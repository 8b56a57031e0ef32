package io.jenkins.plugins.virtbackup.engine.store;

import java.io.IOException;

/**
 * A {@code manifest.json} this version cannot take as the manifest of a complete backup: not JSON,
 * a newer format, a field missing or of the wrong type, a file named outside the backup's folder.
 * The message is one line that says which field and why.
 */
public final class InvalidManifestException extends IOException {
    private static final long serialVersionUID = 1L;

    public InvalidManifestException(String message) {
        super(message);
    }
}
