package io.jenkins.plugins.virtbackup.engine.restore;

import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a restore has made so far, to be taken away again, newest first, unless the restore
 * completes: a failed restore leaves nothing behind. Closing it does the undoing, so a
 * try-with-resources block covers every way out, a stop by signal included.
 */
final class RestoreUndo implements AutoCloseable {
    @FunctionalInterface
    private interface Step {
        void undo() throws IOException, HypervisorException;
    }

    private record Named(String what, Step step) {
    }

    private final BackupLog log;
    private final Deque<Named> steps = new ArrayDeque<>();
    private boolean kept;

    RestoreUndo(BackupLog log) {
        this.log = log;
    }

    /** A file or folder this restore created (a folder is removed with what is in it). */
    synchronized void created(Path path) {
        steps.push(new Named("remove " + path, () -> {
            if (Files.isDirectory(path)) {
                BackupDirectory.deleteTree(path);
            } else {
                Files.deleteIfExists(path);
            }
        }));
    }

    /** The folders that {@link Files#createDirectories} would make for {@code folder}, made now and noted. */
    synchronized void createFolders(Path folder) throws IOException {
        Path missing = null;
        for (Path p = folder.toAbsolutePath(); p != null && !Files.exists(p); p = p.getParent()) {
            missing = p;
        }
        Files.createDirectories(folder);
        if (missing != null) {
            created(missing);
        }
    }

    synchronized void defined(VirtualMachine vm, String name) {
        steps.push(new Named("undefine domain " + name, vm::undefine));
    }

    synchronized void started(VirtualMachine vm, String name) {
        steps.push(new Named("stop domain " + name, vm::forceOff));
    }

    /** The restore is complete: keep everything. */
    synchronized void keep() {
        kept = true;
    }

    @Override
    public synchronized void close() {
        if (kept) {
            return;
        }
        while (!steps.isEmpty()) {
            Named step = steps.pop();
            try {
                step.step().undo();
                log.detail("undone: " + step.what());
            } catch (IOException | HypervisorException e) {
                log.error("could not " + step.what() + " after the failed restore: " + e.getMessage());
            }
        }
    }
}
