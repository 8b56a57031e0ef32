package io.jenkins.plugins.virtbackup.jenkins;

import hudson.EnvVars;
import hudson.FilePath;
import hudson.Launcher;
import hudson.model.TaskListener;
import java.util.Map;
import org.jenkinsci.plugins.workflow.steps.StepContext;

/**
 * Runs {@link RestoreRunner} with the plain options, for the restore step and the restore test step
 * alike; see {@link EngineStepExecution} for the abort.
 */
final class RestoreStepExecution extends EngineStepExecution {
    private static final long serialVersionUID = 1L;
    private final RestoreOptions options;

    RestoreStepExecution(StepContext context, RestoreOptions options) {
        super(context);
        this.options = options;
    }

    @Override
    RestoreOptions options() {
        return options;
    }

    @Override
    protected Map<String, Object> runEngine(StepContext context) throws Exception {
        return RestoreRunner.run(options, context.get(FilePath.class), context.get(EnvVars.class),
                context.get(Launcher.class), context.get(TaskListener.class));
    }
}
