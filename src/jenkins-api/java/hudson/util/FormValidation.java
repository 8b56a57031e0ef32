package hudson.util;

import java.io.IOException;
import org.kohsuke.stapler.HttpResponse;

public abstract class FormValidation extends IOException implements HttpResponse {
    /** Instances come from the factory methods only. */
    private FormValidation() {
    }

    public static FormValidation ok() {
        throw new UnsupportedOperationException();
    }

    public static FormValidation warning(String message) {
        throw new UnsupportedOperationException();
    }

    public static FormValidation error(String message) {
        throw new UnsupportedOperationException();
    }
}
