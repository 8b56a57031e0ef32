package io.jenkins.plugins.virtbackup.jenkins;

import hudson.AbortException;
import hudson.EnvVars;
import hudson.FilePath;
import hudson.Launcher;
import hudson.model.TaskListener;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreResult;
import java.io.IOException;
import java.util.Map;

/**
 * What the builders and pipeline steps of a restore and a restore test share: run the engine
 * ({@link EngineProcess}, which fails the build on any nonzero exit, a test that saw no life
 * included) and turn its result file into the pipeline's map. A restore leaves nothing to archive:
 * what it made is a domain and its disks on the node.
 */
final class RestoreRunner {
    private RestoreRunner() {
    }

    static Map<String, Object> run(RestoreOptions options, FilePath workspace, EnvVars env, Launcher launcher,
                                   TaskListener listener) throws IOException, InterruptedException {
        RestoreResult result = EngineProcess.run(options, RestoreResult::parse, workspace, env, launcher, listener);
        try {
            return options.isTest() ? RestoreSummary.ofTest(result) : RestoreSummary.ofRestore(result);
        } catch (IllegalArgumentException e) {
            throw new AbortException(Messages.RestoreRunner_incomplete(options.description(), e.getMessage()));
        }
    }
}
