package io.jenkins.plugins.virtbackup.jenkins;

import hudson.AbortException;
import hudson.EnvVars;
import hudson.FilePath;
import hudson.Launcher;
import hudson.model.Run;
import hudson.model.TaskListener;
import io.jenkins.plugins.virtbackup.engine.BackupEngine;
import io.jenkins.plugins.virtbackup.engine.RunResult;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jenkins.util.BuildListenerAdapter;

/**
 * What the freestyle builder and the pipeline step of a backup share: run the engine
 * ({@link EngineProcess}), then read the manifest of the backup it completed and archive its log
 * and manifest with the build.
 */
final class BackupRunner {
    private BackupRunner() {
    }

    static BackupSummary run(BackupOptions options, Run<?, ?> run, FilePath workspace, EnvVars env,
                             Launcher launcher, TaskListener listener) throws IOException, InterruptedException {
        RunResult result = EngineProcess.run(options, RunResult::parse, workspace, env, launcher, listener);
        String dir = result.backup();
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
}
