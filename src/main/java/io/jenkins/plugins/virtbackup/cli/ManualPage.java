package io.jenkins.plugins.virtbackup.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The manual page shown by {@code -m}, kept as plain text beside this class. */
final class ManualPage {
    private ManualPage() {
    }

    static String text() {
        try (InputStream in = ManualPage.class.getResourceAsStream("virt-backup.1.txt")) {
            if (in == null) {
                throw new IllegalStateException("the manual page is missing from this build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
