package hudson.remoting;

import java.io.File;
import java.io.IOException;

public class Which {
    public static File jarFile(Class<?> clazz) throws IOException {
        throw new UnsupportedOperationException();
    }
}
