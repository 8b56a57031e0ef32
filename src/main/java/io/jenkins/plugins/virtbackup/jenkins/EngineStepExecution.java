package io.jenkins.plugins.virtbackup.jenkins;

import hudson.AbortException;
import hudson.EnvVars;
import hudson.FilePath;
import java.util.Map;
import org.jenkinsci.plugins.workflow.steps.StepContext;
import org.jenkinsci.plugins.workflow.steps.SynchronousNonBlockingStepExecution;

/**
 * How every pipeline step of this plugin runs the engine: in a thread of its own, so the pipeline is
 * never blocked. A subclass holds its plain options, not its step: this object is saved with the
 * pipeline's program.
 *
 * <p>An abort interrupts the thread running the engine and lets {@link EngineProcess} wait for the
 * engine to undo what it did; the step fails with the abort's cause only then. (The inherited
 * {@code stop} would fail the step at once, while the engine still works and logs.)
 *
 * <p>While the engine runs, a safe restart of Jenkins waits for it ({@code blocksRestart}). After a
 * hard restart the step cannot follow the engine, which went on by itself on the node: it fails,
 * saying where the engine's log and exit code are.
 */
abstract class EngineStepExecution extends SynchronousNonBlockingStepExecution<Map<String, Object>> {
    private static final long serialVersionUID = 1L;
    /** The thread running the engine, while it does; guarded by this. */
    private transient Thread runner;
    private transient volatile Throwable stopCause;
    /** Where the engine ran, saved with the program for the message after a restart; null before. */
    private String node;
    private String workspace;

    EngineStepExecution(StepContext context) {
        super(context);
    }

    /** What the step asks the engine for. */
    abstract EngineTask options();

    /** Runs the engine on the context's node and returns the step's map. */
    protected abstract Map<String, Object> runEngine(StepContext context) throws Exception;

    @Override
    protected final Map<String, Object> run() throws Exception {
        synchronized (this) {
            runner = Thread.currentThread();
        }
        try {
            rememberWhere(getContext());
            return runEngine(getContext());
        } catch (Exception e) {
            // However the interrupt surfaced (an InterruptedException, or an I/O error of a remote
            // call it cut short), an abort ends the step with the abort's cause.
            Throwable cause = stopCause;
            if (cause instanceof Exception stopped && stopped != e) {
                stopped.addSuppressed(e);
                throw stopped;
            }
            throw e;
        } finally {
            synchronized (this) {
                runner = null;
            }
        }
    }

    private void rememberWhere(StepContext context) throws Exception {
        FilePath ws = context.get(FilePath.class);
        if (ws == null || ws.getChannel() == null) {
            throw new AbortException(Messages.EngineStepExecution_noNode(options().description()));
        }
        EnvVars env = context.get(EnvVars.class);
        node = env == null ? null : env.get("NODE_NAME");
        workspace = ws.getRemote();
    }

    @Override
    public void stop(Throwable cause) throws Exception {
        synchronized (this) {
            if (runner != null) {
                stopCause = cause;
                runner.interrupt();
                return;
            }
        }
        super.stop(cause);
    }

    /** Jenkins restarted while the engine ran (a safe restart would have waited for it). */
    @Override
    public void onResume() {
        String where = workspace == null ? Messages.EngineStepExecution_unknownNode()
                : Messages.EngineStepExecution_runFolders(node == null ? "" : node, workspace);
        getContext().onFailure(new AbortException(Messages.EngineStepExecution_restarted(options().description(),
                where)));
    }
}
