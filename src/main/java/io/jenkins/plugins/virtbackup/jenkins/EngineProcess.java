package io.jenkins.plugins.virtbackup.jenkins;

import hudson.AbortException;
import hudson.EnvVars;
import hudson.FilePath;
import hudson.Launcher;
import hudson.Proc;
import hudson.model.Computer;
import hudson.model.Node;
import hudson.model.TaskListener;
import hudson.remoting.Which;
import hudson.slaves.WorkspaceList;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The one way every step runs the engine: put the engine's jar on the node, run it there as a
 * process of the node's own Java with a result file of its own, wait for it (also when the build is
 * aborted), fail the build on a nonzero exit with the engine's last error line, and read the result
 * file. The engine never runs inside a Jenkins JVM. What a result means is the caller's business
 * ({@link BackupRunner}, {@link RestoreRunner}).
 */
final class EngineProcess {
    /** How long an aborted build waits for the engine to undo what it did. */
    static final long STOP_WAIT_MINUTES = 10;
    private static final long STOP_POLL_MILLIS = 200;
    /** Checksum of the bundled jar, computed once per controller start. */
    private static volatile String bundledSha256;

    private EngineProcess() {
    }

    /**
     * How a run ended: its exit code, the engine's last error line (null when it printed none) and its
     * result file as read (null when it wrote none).
     */
    record Finished<T>(int code, String lastProblem, T result) {
        boolean succeeded() {
            return EngineExit.succeeded(code);
        }
    }

    /**
     * Runs the task to its end on the workspace's node and returns its result file, read by
     * {@code readResult}.
     *
     * @param readResult turns the file's text into the result; null for an empty file, and an
     *                   {@link IllegalArgumentException} for one it cannot read
     * @throws AbortException when the task is invalid, the engine failed, or left no readable result
     */
    static <T> T run(EngineTask task, Function<String, T> readResult, FilePath workspace, EnvVars env,
                     Launcher launcher, TaskListener listener) throws IOException, InterruptedException {
        Finished<T> finished = finish(task, readResult, workspace, env, launcher, listener);
        if (!finished.succeeded()) {
            throw new AbortException(EngineExit.failure(task.kind(), task.subject(), finished.code(),
                    finished.lastProblem()));
        }
        if (finished.result() == null) {
            throw new AbortException(Messages.EngineProcess_noResult(task.description()));
        }
        return finished.result();
    }

    /**
     * Runs the task to its end on the workspace's node, whatever its exit code, and returns how it
     * ended: for runs whose result file says more than the exit code, one result per domain of a
     * backup of many.
     *
     * @throws AbortException when the task is invalid, or its result file cannot be read (a failed
     *         run's exit code and last error line then explain why)
     */
    static <T> Finished<T> finish(EngineTask task, Function<String, T> readResult, FilePath workspace, EnvVars env,
                                  Launcher launcher, TaskListener listener) throws IOException, InterruptedException {
        List<String> problems = task.problems();
        if (!problems.isEmpty()) {
            throw new AbortException(Messages.EngineProcess_invalid(String.join("; ", problems)));
        }
        FilePath jar = installCli(workspace, listener);
        // A pipeline's node {} does not create its workspace; the engine's process starts in it.
        workspace.mkdirs();
        FilePath resultFile = newResultFile(workspace);
        String text;
        Finished<Void> exit;
        try {
            List<String> command = new ArrayList<>();
            command.add(launcher.getChannel().call(new AgentCalls.JavaCommand()));
            command.add("-jar");
            command.add(jar.getRemote());
            command.addAll(task.cliArguments(resultFile.getRemote()));
            exit = runToTheEnd(task, command, workspace, env, launcher, listener);
            text = resultFile.readToString();
        } finally {
            delete(resultFile, listener);
        }
        try {
            return new Finished<>(exit.code(), exit.lastProblem(), readResult.apply(text));
        } catch (RuntimeException e) {
            if (!exit.succeeded()) {
                throw new AbortException(EngineExit.failure(task.kind(), task.subject(), exit.code(),
                        exit.lastProblem()));
            }
            throw new AbortException(Messages.EngineProcess_badResult(resultFile.getRemote(), e.getMessage()));
        }
    }

    /** Runs the engine until it ends; returns its exit code and last error line. */
    private static Finished<Void> runToTheEnd(EngineTask task, List<String> command, FilePath workspace, EnvVars env,
                                              Launcher launcher, TaskListener listener)
            throws IOException, InterruptedException {
        EngineConsole console = new EngineConsole(listener.getLogger());
        int code;
        Proc proc = launcher.launch().cmds(command).envs(unexpanded(env)).stdout(console).pwd(workspace).start();
        try {
            code = proc.join();
        } catch (InterruptedException aborted) {
            stopEngine(proc, task, listener, aborted);
            throw aborted;
        } finally {
            console.close();
        }
        return new Finished<>(code, console.lastProblem(), null);
    }

    /**
     * An empty file in the workspace's temporary folder on the node, for the engine to replace with
     * its result: a name of this build's own, outside the workspace's contents.
     */
    private static FilePath newResultFile(FilePath workspace) throws IOException, InterruptedException {
        FilePath temp = WorkspaceList.tempDir(workspace);
        if (temp == null) {
            temp = workspace;  // a workspace at the root of the file system has no sibling folder
        }
        temp.mkdirs();
        return temp.createTempFile("virt-backup-result", ".json");
    }

    /** Removes the result file; a file left behind is only reported: it holds nothing secret. */
    private static void delete(FilePath file, TaskListener listener) throws InterruptedException {
        try {
            file.delete();
        } catch (IOException e) {
            listener.getLogger().println(Messages.EngineProcess_resultNotDeleted(file.getRemote(), e.getMessage()));
        }
    }

    /**
     * The build was aborted. Jenkins' kill sends SIGTERM (to the engine's children first), waits its
     * grace period and returns, whether the engine has ended or not; on SIGTERM the engine undoes what
     * it did (puts the domain back, removes what it restored), which can take longer. The build waits
     * for that, so that it is final only once the node is as it was, at most {@link #STOP_WAIT_MINUTES};
     * a second abort stops waiting.
     */
    private static void stopEngine(Proc proc, EngineTask task, TaskListener listener, InterruptedException aborted) {
        PrintStream log = listener.getLogger();
        EngineTask.Kind kind = task.kind();
        try {
            proc.kill();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(STOP_WAIT_MINUTES);
            if (proc.isAlive()) {
                log.println(Messages.EngineProcess_waitingForEngine(kind.cleanUp(task.subject()), STOP_WAIT_MINUTES));
            }
            while (proc.isAlive()) {
                if (System.nanoTime() - deadline > 0) {
                    log.println(Messages.EngineProcess_engineStillRunning(STOP_WAIT_MINUTES,
                            kind.checkAfterwards(task.subject())));
                    return;
                }
                Thread.sleep(STOP_POLL_MILLIS);
            }
            proc.join();  // the engine's last lines, into the log before the build ends
        } catch (InterruptedException again) {
            log.println(Messages.EngineProcess_stoppedWaiting(kind.checkAfterwards(task.subject())));
            aborted.addSuppressed(again);
        } catch (IOException e) {
            aborted.addSuppressed(e);
        }
    }

    /**
     * The environment as the engine must see it. The launcher expands {@code $NAME} in every value
     * once more on the node (as a shell would); {@code $$} is its escape for one {@code $}.
     */
    static Map<String, String> unexpanded(Map<String, String> env) {
        Map<String, String> escaped = new TreeMap<>();
        env.forEach((name, value) -> escaped.put(name, value.replace("$", "$$")));
        return escaped;
    }

    /** The bundled jar on the node, copied there the first time this version runs on it. */
    private static FilePath installCli(FilePath workspace, TaskListener listener)
            throws IOException, InterruptedException {
        File local = BundledCli.locate(Which.jarFile(EngineProcess.class));
        String sha256 = bundledSha256;
        if (sha256 == null) {
            sha256 = BundledCli.sha256(local);
            bundledSha256 = sha256;
        }
        FilePath cacheDir = nodeRoot(workspace).child(BundledCli.NODE_CACHE_DIR);
        String name = BundledCli.cachedFileName(sha256);
        if (!cacheDir.act(new AgentCalls.CheckCachedJar(name, sha256))) {
            listener.getLogger().println(Messages.EngineProcess_copyingCli(cacheDir.getRemote()));
            cacheDir.mkdirs();
            FilePath temp = cacheDir.createTempFile("virt-backup-cli", ".part");
            try {
                temp.copyFrom(new FilePath(local));
                cacheDir.act(new AgentCalls.CommitCachedJar(temp.getName(), name, sha256));
            } finally {
                temp.delete();
            }
        }
        return cacheDir.child(name);
    }

    private static FilePath nodeRoot(FilePath workspace) throws AbortException {
        Computer computer = workspace.toComputer();
        Node node = computer == null ? null : computer.getNode();
        FilePath root = node == null ? null : node.getRootPath();
        if (root == null) {
            throw new AbortException(Messages.EngineProcess_noNodeRoot(workspace.getRemote()));
        }
        return root;
    }
}
