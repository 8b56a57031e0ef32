package hudson;

import hudson.model.TaskListener;
import hudson.remoting.VirtualChannel;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;

public abstract class Launcher {
    protected Launcher(TaskListener listener, VirtualChannel channel) {
    }

    public final ProcStarter launch() {
        throw new UnsupportedOperationException();
    }

    public VirtualChannel getChannel() {
        throw new UnsupportedOperationException();
    }

    public final class ProcStarter {
        public ProcStarter cmds(List<String> args) {
            throw new UnsupportedOperationException();
        }

        public ProcStarter envs(Map<String, String> overrides) {
            throw new UnsupportedOperationException();
        }

        public ProcStarter stdout(OutputStream out) {
            throw new UnsupportedOperationException();
        }

        public ProcStarter quiet(boolean quiet) {
            throw new UnsupportedOperationException();
        }

        public ProcStarter pwd(FilePath workDir) {
            throw new UnsupportedOperationException();
        }

        public Proc start() throws IOException {
            throw new UnsupportedOperationException();
        }
    }
}
