package io.jenkins.plugins.virtbackup.jenkins;

import hudson.AbortException;
import hudson.EnvVars;
import hudson.FilePath;
import hudson.Launcher;
import hudson.model.Result;
import hudson.model.Run;
import hudson.model.TaskListener;
import io.jenkins.plugins.virtbackup.engine.BackupEngine;
import io.jenkins.plugins.virtbackup.engine.RunResult;
import io.jenkins.plugins.virtbackup.engine.batch.BatchResult;
import io.jenkins.plugins.virtbackup.engine.batch.BatchResult.DomainResult;
import io.jenkins.plugins.virtbackup.engine.store.InvalidManifestException;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jenkins.util.BuildListenerAdapter;

/**
 * What the freestyle builder and the pipeline step of a backup share: run the engine
 * ({@link EngineProcess}), then read the manifest of the backup it completed and archive its log
 * and manifest with the build. For several domains or all, one result per domain, and a build that
 * names the failed ones.
 */
final class BackupRunner {
    private BackupRunner() {
    }

    static BackupSummary run(BackupOptions options, Run<?, ?> run, FilePath workspace, EnvVars env,
                             Launcher launcher, TaskListener listener) throws IOException, InterruptedException {
        long start = System.nanoTime();
        EngineProcess.Finished<RunResult> finished = EngineProcess.finish(options, RunResult::parse, workspace, env,
                launcher, listener);
        if (!finished.succeeded()) {
            // On the build page too: a failed backup is a row of its own, with the engine's reason.
            BackupBuildAction.of(run).add(BackupRecord.failed(options.domain(), finished.code(),
                    finished.lastProblem(), (System.nanoTime() - start) / 1_000_000));
        }
        String dir = EngineProcess.resultOf(options, finished).backup();
        if (dir == null) {
            throw new AbortException(Messages.BackupRunner_noBackupDir(options.domain()));
        }
        return archive(options.domain(), dir, run, workspace, launcher, listener);
    }

    /**
     * Backs up a list of domains (one engine run each, in order) or all of them (one engine run with
     * {@code --all}); one domain's failure does not stop the others. Returns a map per domain, keyed by
     * domain in the order they were backed up: a complete one's is {@link BackupSummary#toMap}, a failed
     * one's {@link #failedMap}. When some failed, the build fails naming them, or, with
     * {@code unstableOnFailure}, is marked UNSTABLE and the map is returned.
     */
    static Map<String, Object> runMany(BackupOptions options, Run<?, ?> run, FilePath workspace, EnvVars env,
                                       Launcher launcher, TaskListener listener)
            throws IOException, InterruptedException {
        List<DomainResult> results = options.allDomains() ? all(options, workspace, env, launcher, listener)
                : eachInTurn(options, workspace, env, launcher, listener);
        Map<String, Object> byDomain = new LinkedHashMap<>();
        List<String> failed = new ArrayList<>();
        for (DomainResult result : results) {
            if (result.status() == 0 && result.backup() != null) {
                BackupSummary summary = archive(result.domain(), result.backup(), run, workspace, launcher, listener);
                listener.getLogger().println(Messages.BackupRunner_domainComplete(result.domain(), result.backup()));
                byDomain.put(result.domain(), summary.toMap());
            } else {
                String line = Messages.BackupRunner_domainFailed(result.domain(), result.status(),
                        EngineExit.meaning(EngineTask.Kind.BACKUP, result.status()),
                        result.error() != null ? result.error() : Messages.EngineExit_noMessage());
                listener.getLogger().println("virt-backup: " + line);
                failed.add(line);
                byDomain.put(result.domain(), failedMap(result));
                BackupBuildAction.of(run).add(BackupRecord.failed(result.domain(), result.status(), result.error(),
                        result.durationMs()));
            }
        }
        if (!failed.isEmpty()) {
            String message = Messages.BackupRunner_someFailed(failed.size(), results.size(), String.join("; ", failed));
            if (!options.unstableOnFailure()) {
                throw new AbortException(message);
            }
            listener.getLogger().println(message);
            run.setResult(Result.UNSTABLE);
        }
        return byDomain;
    }

    /** One engine run with {@code --all}: its result file has every domain's result. */
    private static List<DomainResult> all(BackupOptions options, FilePath workspace, EnvVars env, Launcher launcher,
                                          TaskListener listener) throws IOException, InterruptedException {
        EngineProcess.Finished<BatchResult> finished = EngineProcess.finish(options, BatchResult::parse, workspace,
                env, launcher, listener);
        BatchResult result = finished.result();
        if (result == null || result.domains().isEmpty()) {
            // Nothing per domain to report: the run failed as a whole (hypervisor unreachable, no domain).
            if (finished.succeeded()) {
                throw new AbortException(Messages.EngineProcess_noResult(options.description()));
            }
            throw new AbortException(Messages.BackupRunner_noDomains(options.description(), finished.code(),
                    EngineExit.meaning(options.kind(), finished.code()),
                    finished.lastProblem() != null ? finished.lastProblem() : Messages.EngineExit_noMessage()));
        }
        return result.domains();
    }

    /** One engine run per listed domain, one after the other, as a single-domain step would run each. */
    private static List<DomainResult> eachInTurn(BackupOptions options, FilePath workspace, EnvVars env,
                                                 Launcher launcher, TaskListener listener)
            throws IOException, InterruptedException {
        List<DomainResult> results = new ArrayList<>();
        for (String domain : options.domains()) {
            long start = System.nanoTime();
            EngineProcess.Finished<RunResult> finished = EngineProcess.finish(options.forDomain(domain),
                    RunResult::parse, workspace, env, launcher, listener);
            long millis = (System.nanoTime() - start) / 1_000_000;
            RunResult result = finished.result();
            if (finished.succeeded() && result != null && result.backup() != null) {
                results.add(new DomainResult(domain, 0, result.backup(), result.level(), result.parent(), null,
                        millis));
            } else {
                int code = finished.succeeded() ? 1 : finished.code();
                String error = finished.succeeded() ? Messages.BackupRunner_noBackupDir(domain) : finished.lastProblem();
                results.add(new DomainResult(domain, code, null, null, null, error, millis));
            }
        }
        return results;
    }

    /**
     * A failed domain's map in the step's result: {@code domain}, {@code result} ({@code failed}),
     * {@code exitCode} and {@code error} (the engine's last error line, or null).
     */
    static Map<String, Object> failedMap(DomainResult result) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("domain", result.domain());
        map.put("result", "failed");
        map.put("exitCode", result.status());
        map.put("error", result.error());
        return map;
    }

    /**
     * Reads the manifest of a complete backup, archives its log and manifest with the build, and adds
     * the backup to the build page ({@link BackupBuildAction}).
     */
    private static BackupSummary archive(String domain, String dir, Run<?, ?> run, FilePath workspace,
                                         Launcher launcher, TaskListener listener)
            throws IOException, InterruptedException {
        FilePath backup = new FilePath(workspace.getChannel(), dir);
        Manifest manifest;
        try {
            manifest = Manifest.parse(backup.child(Manifest.FILE_NAME).readToString());
        } catch (InvalidManifestException | RuntimeException e) {
            throw new AbortException(Messages.BackupRunner_badManifest(dir, e.getMessage()));
        }
        BackupSummary summary = BackupSummary.of(manifest, dir);
        if (!domain.equals(summary.domain())) {
            throw new AbortException(Messages.BackupRunner_otherDomain(dir, summary.domain(), domain));
        }
        Map<String, String> files = artifacts(domain, backup.getName());
        run.pickArtifactManager().archive(backup, launcher, BuildListenerAdapter.wrap(listener), files);
        BackupBuildAction.of(run).add(BackupRecord.complete(manifest, dir, files));
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
