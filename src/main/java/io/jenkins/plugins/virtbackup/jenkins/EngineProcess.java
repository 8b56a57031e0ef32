package io.jenkins.plugins.virtbackup.jenkins;

import hudson.AbortException;
import hudson.EnvVars;
import hudson.FilePath;
import hudson.Launcher;
import hudson.Proc;
import hudson.model.TaskListener;
import hudson.remoting.VirtualChannel;
import hudson.remoting.Which;
import hudson.slaves.WorkspaceList;
import io.jenkins.plugins.virtbackup.cli.EngineSupervisor;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The one way every step runs the engine: put the engine's jar in the workspace's temporary folder
 * on the node, run it there with the node's Java under {@link EngineSupervisor} (which keeps the engine
 * out of reach of Jenkins' process killing and of a lost agent connection) with a run folder of its
 * own, wait for it (also when the build is aborted), fail the build on a nonzero exit with the engine's
 * last error line, and read the result file. The engine never runs inside a Jenkins JVM. What a result means is the caller's business
 * ({@link BackupRunner}, {@link RestoreRunner}).
 */
final class EngineProcess {
    /** How long an aborted build waits for the engine to undo what it did. */
    static final long STOP_WAIT_MINUTES = 10;
    private static final long STOP_POLL_MILLIS = 200;
    /** The engine's result file, in the run's folder. */
    static final String RESULT_FILE = "result.json";
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
        return resultOf(task, finish(task, readResult, workspace, env, launcher, listener));
    }

    /**
     * The result of a finished run.
     *
     * @throws AbortException when the engine failed (with its last error line) or left no result
     */
    static <T> T resultOf(EngineTask task, Finished<T> finished) throws AbortException {
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
        VirtualChannel channel = requireOnline(workspace, launcher);
        // Below the workspace, which container wrappers (docker.inside, container()) share with the
        // agent; a pipeline's node {} does not create its workspace.
        workspace.mkdirs();
        FilePath temp = tempDir(workspace);
        FilePath jar = installCli(temp, listener);
        FilePath runDir = temp.createTempDir("virt-backup-run", "");
        FilePath resultFile = runDir.child(RESULT_FILE);
        List<String> engineArgs = task.cliArguments(resultFile.getRemote());
        listener.getLogger().println(Messages.EngineProcess_starting(jar.getRemote(), String.join(" ", engineArgs),
                runDir.child(EngineSupervisor.LOG_FILE).getRemote()));
        List<String> command = EngineCommand.of(channel.call(new AgentCalls.JavaCommand()), jar.getRemote(),
                runDir.getRemote(), engineArgs);
        Finished<Void> exit;
        String text;
        try {
            exit = runToTheEnd(task, command, workspace, env, launcher, listener);
            text = resultFile.exists() ? resultFile.readToString() : "";
        } finally {
            removeRunDir(runDir, listener);
        }
        if (exit.code() == EngineCommand.NO_JAVA && text.isEmpty()) {
            throw new AbortException(Messages.EngineProcess_noJava(workspace.getRemote()));
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

    /**
     * The node's connection: null when its agent is not connected (it went offline before the step,
     * or between two steps of a Pipeline), which would otherwise surface as a NullPointerException.
     */
    private static VirtualChannel requireOnline(FilePath workspace, Launcher launcher) throws AbortException {
        VirtualChannel channel = launcher.getChannel();
        if (channel == null || workspace.getChannel() == null) {
            throw new AbortException(Messages.EngineProcess_offline(workspace.getRemote()));
        }
        return channel;
    }

    /** Runs the engine until it ends; returns its exit code and last error line. */
    private static Finished<Void> runToTheEnd(EngineTask task, List<String> command, FilePath workspace, EnvVars env,
                                              Launcher launcher, TaskListener listener)
            throws IOException, InterruptedException {
        EngineConsole console = new EngineConsole(listener.getLogger());
        int code;
        // quiet: the line above says what runs; the shell that picks the node's java says nothing useful.
        Proc proc = launcher.launch().cmds(command).envs(unexpanded(env)).stdout(console).pwd(workspace)
                .quiet(true).start();
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
     * The workspace's temporary folder on the node ({@code WORKSPACE@tmp}): a place of this build's
     * own, outside the workspace's contents, that container wrappers mount like the workspace.
     */
    private static FilePath tempDir(FilePath workspace) throws IOException, InterruptedException {
        FilePath temp = WorkspaceList.tempDir(workspace);
        if (temp == null) {
            temp = workspace;  // a workspace at the root of the file system has no sibling folder
        }
        temp.mkdirs();
        return temp;
    }

    /**
     * Removes the run's folder once the engine has ended (its exit code is there); a run still going
     * after the build stopped waiting keeps it: the engine's log is in it. A folder left behind is
     * only reported: it holds nothing secret.
     */
    private static void removeRunDir(FilePath runDir, TaskListener listener) throws InterruptedException {
        try {
            if (runDir.child(EngineSupervisor.EXIT_FILE).exists()) {
                runDir.deleteRecursive();
            }
        } catch (IOException e) {
            listener.getLogger().println(Messages.EngineProcess_runDirNotDeleted(runDir.getRemote(), e.getMessage()));
        }
    }

    /**
     * The build was aborted. Jenkins' kill sends SIGTERM to the process it started (children first, then
     * every process with its cookie variable), waits about 5 s and returns, whether it has ended or not.
     * That process is the {@link EngineSupervisor}: it passes the SIGTERM on to the engine alone (whose
     * children, such as libvirt's {@code ssh}, are left alone) and ends when the engine does. On SIGTERM
     * the engine undoes what it did (puts the domain back, removes what it restored), which can take
     * longer. The build waits
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

    /**
     * The bundled jar on the node, in the workspace's temporary folder (where a container wrapper sees
     * it too), copied there the first time this version runs in that workspace.
     */
    private static FilePath installCli(FilePath temp, TaskListener listener)
            throws IOException, InterruptedException {
        File local = BundledCli.locate(Which.jarFile(EngineProcess.class));
        String sha256 = bundledSha256;
        if (sha256 == null) {
            sha256 = BundledCli.sha256(local);
            bundledSha256 = sha256;
        }
        FilePath cacheDir = temp.child(BundledCli.CACHE_DIR);
        String name = BundledCli.cachedFileName(sha256);
        if (!cacheDir.act(new AgentCalls.CheckCachedJar(name, sha256))) {
            listener.getLogger().println(Messages.EngineProcess_copyingCli(cacheDir.getRemote()));
            cacheDir.mkdirs();
            FilePath copy = cacheDir.createTempFile("virt-backup-cli", ".part");
            try {
                copy.copyFrom(new FilePath(local));
                cacheDir.act(new AgentCalls.CommitCachedJar(copy.getName(), name, sha256));
            } finally {
                copy.delete();
            }
        }
        return cacheDir.child(name);
    }
}
