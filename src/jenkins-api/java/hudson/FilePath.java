package hudson;

import hudson.model.Computer;
import hudson.remoting.VirtualChannel;
import java.io.File;
import java.io.IOException;
import java.io.Serializable;
import org.jenkinsci.remoting.RoleSensitive;
import org.jenkinsci.remoting.SerializableOnlyOverRemoting;

public final class FilePath implements SerializableOnlyOverRemoting {
    public FilePath(VirtualChannel channel, String remote) {
        throw new UnsupportedOperationException();
    }

    public FilePath(File localPath) {
        throw new UnsupportedOperationException();
    }

    public String getRemote() {
        throw new UnsupportedOperationException();
    }

    public String getName() {
        throw new UnsupportedOperationException();
    }

    public FilePath child(String relOrAbsolute) {
        throw new UnsupportedOperationException();
    }

    public VirtualChannel getChannel() {
        throw new UnsupportedOperationException();
    }

    public Computer toComputer() {
        throw new UnsupportedOperationException();
    }

    public void mkdirs() throws IOException, InterruptedException {
        throw new UnsupportedOperationException();
    }

    public FilePath createTempDir(String prefix, String suffix) throws IOException, InterruptedException {
        throw new UnsupportedOperationException();
    }

    public boolean exists() throws IOException, InterruptedException {
        throw new UnsupportedOperationException();
    }

    public void deleteRecursive() throws IOException, InterruptedException {
        throw new UnsupportedOperationException();
    }

    public FilePath createTempFile(String prefix, String suffix) throws IOException, InterruptedException {
        throw new UnsupportedOperationException();
    }

    public void copyFrom(FilePath src) throws IOException, InterruptedException {
        throw new UnsupportedOperationException();
    }

    public boolean delete() throws IOException, InterruptedException {
        throw new UnsupportedOperationException();
    }

    public String readToString() throws IOException, InterruptedException {
        throw new UnsupportedOperationException();
    }

    public <T> T act(FileCallable<T> callable) throws IOException, InterruptedException {
        throw new UnsupportedOperationException();
    }

    public interface FileCallable<T> extends Serializable, RoleSensitive {
        T invoke(File f, VirtualChannel channel) throws IOException, InterruptedException;
    }
}
