package io.jenkins.plugins.virtbackup.jenkins;

import hudson.AbortException;
import hudson.EnvVars;
import hudson.FilePath;
import hudson.Launcher;
import hudson.Proc;
import hudson.model.Computer;
import hudson.model.Node;
import hudson.model.Run;
import hudson.model.TaskListener;
import hudson.remoting.Which;
import hudson.slaves.WorkspaceList;
import io.jenkins.plugins.virtbackup.engine.BackupEngine;
import io.jenkins.plugins.virtbackup.engine.RunResult;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import jenkins.util.BuildListenerAdapter;

/**
 * The one code path behind the freestyle builder and the pipeline step: put the engine's jar on the
 * node, run it there as a process of the node's own Java, report its exit, read and archive what the
 * run wrote. The engine never runs inside a Jenkins JVM.
 */
final class BackupRunner {
    /** How long an aborted build waits for the engine to put the domain back. */
    static final long STOP_WAIT_MINUTES = 10;
    private static final long STOP_POLL_MILLIS = 200;
    /** Checksum of the bundled jar, computed once per controller start. */
    private static volatile String bundledSha256;

    private BackupRunner() {
    }

    static BackupSummary run(BackupOptions options, Run<?, ?> run, FilePath workspace, EnvVars env,
                             Launcher launcher, TaskListener listener) throws IOException, InterruptedException {
        List<String> problems = options.problems();
        if (!problems.isEmpty()) {
            throw new AbortException(Messages.BackupRunner_invalid(String.join("; ", problems)));
        }
        FilePath jar = installCli(workspace, listener);
        // A pipeline's node {} does not create its workspace; the engine's process starts in it.
        workspace.mkdirs();
        FilePath resultFile = newResultFile(workspace);
        String dir;
        try {
            List<String> command = new ArrayList<>();
            command.add(launcher.getChannel().call(new AgentCalls.JavaCommand()));
            command.add("-jar");
            command.add(jar.getRemote());
            command.addAll(options.cliArguments(resultFile.getRemote()));
            dir = runEngine(command, options, workspace, env, launcher, listener, resultFile);
        } finally {
            delete(resultFile, listener);
        }
        FilePath backup = new FilePath(workspace.getChannel(), dir);
        BackupSummary summary;
        try {
            summary = BackupSummary.fromManifest(backup.child(Manifest.FILE_NAME).readToString(), dir);
        } catch (RuntimeException e) {
            throw new AbortException(Messages.BackupRunner_badManifest(dir, e.getMessage()));
        }
        if (!options.domain().equals(summary.domain())) {
            throw new AbortException(Messages.BackupRunner_otherDomain(dir, summary.domain(), options.domain()));
        }
        run.pickArtifactManager().archive(backup, launcher, BuildListenerAdapter.wrap(listener),
                artifacts(options.domain(), backup.getName()));
        return summary;
    }

    /**
     * Runs the engine to its end and returns the directory of the backup it completed, as its result
     * file names it; a failed run fails the build with the engine's last error line.
     */
    private static String runEngine(List<String> command, BackupOptions options, FilePath workspace, EnvVars env,
                                    Launcher launcher, TaskListener listener, FilePath resultFile)
            throws IOException, InterruptedException {
        EngineConsole console = new EngineConsole(listener.getLogger());
        int code;
        Proc proc = launcher.launch().cmds(command).envs(unexpanded(env)).stdout(console).pwd(workspace).start();
        try {
            code = proc.join();
        } catch (InterruptedException aborted) {
            stopEngine(proc, options.domain(), listener, aborted);
            throw aborted;
        } finally {
            console.close();
        }
        if (!EngineExit.succeeded(code)) {
            throw new AbortException(EngineExit.failure(options.domain(), code, console.lastProblem()));
        }
        RunResult result;
        try {
            result = RunResult.parse(resultFile.readToString());
        } catch (RuntimeException e) {
            throw new AbortException(Messages.BackupRunner_badResult(resultFile.getRemote(), e.getMessage()));
        }
        if (result == null || result.backup() == null) {
            throw new AbortException(Messages.BackupRunner_noBackupDir(options.domain()));
        }
        return result.backup();
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
            listener.getLogger().println(Messages.BackupRunner_resultNotDeleted(file.getRemote(), e.getMessage()));
        }
    }

    /**
     * The build was aborted. Jenkins' kill sends SIGTERM (to the engine's children first), waits its
     * grace period and returns, whether the engine has ended or not; on SIGTERM the engine puts the
     * domain back, which can take longer. The build waits for that, so that it is final only once
     * the domain is as it was found, at most {@link #STOP_WAIT_MINUTES}; a second abort stops waiting.
     */
    private static void stopEngine(Proc proc, String domain, TaskListener listener, InterruptedException aborted) {
        PrintStream log = listener.getLogger();
        try {
            proc.kill();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(STOP_WAIT_MINUTES);
            if (proc.isAlive()) {
                log.println(Messages.BackupRunner_waitingForEngine(domain, STOP_WAIT_MINUTES));
            }
            while (proc.isAlive()) {
                if (System.nanoTime() - deadline > 0) {
                    log.println(Messages.BackupRunner_engineStillRunning(STOP_WAIT_MINUTES, domain));
                    return;
                }
                Thread.sleep(STOP_POLL_MILLIS);
            }
            proc.join();  // the engine's last lines, into the log before the build ends
        } catch (InterruptedException again) {
            log.println(Messages.BackupRunner_stoppedWaiting(domain));
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

    /** Archive path to file in the backup directory: named by domain and run, so backups never collide. */
    static Map<String, String> artifacts(String domain, String stamp) {
        Map<String, String> files = new LinkedHashMap<>();
        for (String name : List.of(BackupEngine.RUN_LOG_FILE, Manifest.FILE_NAME)) {
            files.put("virt-backup/" + domain + "/" + stamp + "/" + name, name);
        }
        return files;
    }

    /** The bundled jar on the node, copied there the first time this version runs on it. */
    private static FilePath installCli(FilePath workspace, TaskListener listener)
            throws IOException, InterruptedException {
        File local = BundledCli.locate(Which.jarFile(BackupRunner.class));
        String sha256 = bundledSha256;
        if (sha256 == null) {
            sha256 = BundledCli.sha256(local);
            bundledSha256 = sha256;
        }
        FilePath cacheDir = nodeRoot(workspace).child(BundledCli.NODE_CACHE_DIR);
        String name = BundledCli.cachedFileName(sha256);
        if (!cacheDir.act(new AgentCalls.CheckCachedJar(name, sha256))) {
            listener.getLogger().println(Messages.BackupRunner_copyingCli(cacheDir.getRemote()));
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
            throw new AbortException(Messages.BackupRunner_noNodeRoot(workspace.getRemote()));
        }
        return root;
    }
}
