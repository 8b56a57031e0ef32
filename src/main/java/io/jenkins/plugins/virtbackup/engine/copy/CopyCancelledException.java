package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;

/** A copy stopped because the run was asked to stop (a signal), not because of an I/O error. */
public class CopyCancelledException extends IOException {
    private static final long serialVersionUID = 1L;

    public CopyCancelledException(String message) {
        super(message);
    }
}
