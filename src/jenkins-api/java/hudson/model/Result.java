package hudson.model;

import java.io.Serializable;
import org.kohsuke.stapler.export.CustomExportedBean;

/** Only the results this plugin sets; the real class has more. */
public final class Result implements Serializable, CustomExportedBean {
    public static final Result SUCCESS = new Result();
    public static final Result UNSTABLE = new Result();
    public static final Result FAILURE = new Result();

    private Result() {
    }
}
