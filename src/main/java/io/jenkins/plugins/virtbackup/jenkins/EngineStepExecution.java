package io.jenkins.plugins.virtbackup.jenkins;

import java.util.Map;
import org.jenkinsci.plugins.workflow.steps.StepContext;
import org.jenkinsci.plugins.workflow.steps.SynchronousNonBlockingStepExecution;

/**
 * How every pipeline step of this plugin runs the engine: in a thread of its own, so the pipeline is
 * never blocked. A subclass holds its plain options, not its step: this object is saved with the
 * pipeline's program. An abort interrupts the thread running the engine and lets
 * {@link EngineProcess} wait for the engine to undo what it did; the step fails with the abort's
 * cause only then. (The inherited {@code stop} would fail the step at once, while the engine still
 * works and logs.)
 */
abstract class EngineStepExecution extends SynchronousNonBlockingStepExecution<Map<String, Object>> {
    private static final long serialVersionUID = 1L;
    /** The thread running the engine, while it does; guarded by this. */
    private transient Thread runner;
    private transient volatile Throwable stopCause;

    EngineStepExecution(StepContext context) {
        super(context);
    }

    /** Runs the engine on the context's node and returns the step's map. */
    protected abstract Map<String, Object> runEngine(StepContext context) throws Exception;

    @Override
    protected final Map<String, Object> run() throws Exception {
        synchronized (this) {
            runner = Thread.currentThread();
        }
        try {
            return runEngine(getContext());
        } catch (InterruptedException e) {
            Throwable cause = stopCause;
            if (cause instanceof Exception stopped) {
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
}
