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
import io.jenkins.plugins.virtbackup.engine.BackupEngine;
import io.jenkins.plugins.virtbackup.engine.Manifest;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jenkins.util.BuildListenerAdapter;

/**
 * The one code path behind the freestyle builder and the pipeline step: put the engine's jar on the
 * node, run it there as a process of the node's own Java, report its exit, read and archive what the
 * run wrote. The engine never runs inside a Jenkins JVM.
 */
final class BackupRunner {
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
        List<String> command = new ArrayList<>();
        command.add(launcher.getChannel().call(new AgentCalls.JavaCommand()));
        command.add("-jar");
        command.add(jar.getRemote());
        command.addAll(options.cliArguments());

        EngineConsole console = new EngineConsole(listener.getLogger());
        int code;
        Proc proc = launcher.launch().cmds(command).envs(env).stdout(console).pwd(workspace).start();
        try {
            code = proc.join();
        } catch (InterruptedException e) {
            // The build was aborted: Jenkins' kill sends SIGTERM, then SIGKILL if the engine is
            // still there after its grace period. The engine puts the domain back on SIGTERM.
            try {
                proc.kill();
            } catch (IOException | InterruptedException k) {
                e.addSuppressed(k);
            }
            throw e;
        } finally {
            console.close();
        }
        if (!EngineExit.succeeded(code)) {
            throw new AbortException(EngineExit.failure(options.domain(), code, console.lastProblem()));
        }

        String dir = BackupSummary.backupDirFromCompleteLine(console.completeLine(), options);
        if (dir == null) {
            throw new AbortException(Messages.BackupRunner_noBackupDir(options.domain()));
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
