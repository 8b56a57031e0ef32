package io.jenkins.plugins.virtbackup.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** What a failed operation must not leave behind: open files, running threads. */
public final class Leaks {
    private Leaks() {
    }

    /** How many file descriptors this process holds open. */
    public static long openFileCount() throws IOException {
        try (Stream<Path> open = Files.list(Path.of("/proc/self/fd"))) {
            return open.count();
        }
    }

    /**
     * Fails when a thread whose name starts with {@code prefix} is still alive after a grace of a
     * few seconds: a thread that is ending gets that long, one left waiting for work never ends.
     */
    public static void assertNoThreadNamed(String prefix) throws InterruptedException {
        for (Thread thread : threadsNamed(prefix)) {
            thread.join(5_000);
        }
        assertThat(threadsNamed(prefix)).extracting(Thread::getName).as("threads left running").isEmpty();
    }

    private static List<Thread> threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).toList();
    }
}
