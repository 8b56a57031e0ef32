package io.jenkins.plugins.virtbackup.engine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A domain whose behaviour a unit test scripts: for the paths the test driver cannot take, like a
 * guest that ignores the shutdown request, or a start that fails. Records every call.
 */
final class ScriptedVirtualMachine implements VirtualMachine {
    final List<String> calls = new ArrayList<>();
    DomainState state = DomainState.RUNNING;
    boolean guestObeysShutdown = true;
    boolean startFails;

    @Override
    public String name() {
        return "scripted";
    }

    @Override
    public String uuid() {
        return "00000000-0000-0000-0000-000000000000";
    }

    @Override
    public DomainState state() {
        return state;
    }

    @Override
    public boolean isPersistent() {
        return true;
    }

    @Override
    public String definitionXml() {
        return "<domain/>";
    }

    List<Disk> disks = List.of();

    @Override
    public List<Disk> disks() {
        return disks;
    }

    @Override
    public long memoryBytes() {
        return 0;
    }

    @Override
    public long estimatedCopyBytes(Disk disk) {
        return 0;
    }

    @Override
    public void requestShutdown() {
        calls.add("shutdown");
        if (guestObeysShutdown) {
            state = DomainState.SHUT_OFF;
        }
    }

    @Override
    public void forceOff() {
        calls.add("forceOff");
        state = DomainState.SHUT_OFF;
    }

    @Override
    public void start() throws HypervisorException {
        calls.add("start");
        if (startFails) {
            throw new HypervisorException(HypervisorException.Kind.OTHER, "no memory left on host", null);
        }
        state = DomainState.RUNNING;
    }

    @Override
    public void pause() {
        calls.add("pause");
        state = DomainState.PAUSED;
    }

    @Override
    public void resume() {
        calls.add("resume");
        state = DomainState.RUNNING;
    }

    @Override
    public void saveState(Path file) {
        calls.add("save");
        state = DomainState.SHUT_OFF;
    }

    // The live modes are exercised on real QEMU guests, not here.

    @Override
    public long createExternalSnapshot(Map<String, Path> overlays, Path memoryFile) {
        throw new UnsupportedOperationException("not scripted");
    }

    /** The states blockJobState reports, one per call, the last one again once the list is used up. */
    final java.util.Deque<BlockJobState> blockJobStates = new java.util.ArrayDeque<>();

    @Override
    public void beginOverlayCommit(String target) {
        calls.add("commit " + target);
    }

    @Override
    public BlockJobState blockJobState(String target) {
        calls.add("job? " + target);
        return blockJobStates.size() > 1 ? blockJobStates.poll() : blockJobStates.peek();
    }

    @Override
    public void pivot(String target) {
        calls.add("pivot " + target);
    }

    @Override
    public void beginPushBackup(Map<String, Path> targets) {
        throw new UnsupportedOperationException("not scripted");
    }

    @Override
    public JobProgress currentJob() {
        throw new UnsupportedOperationException("not scripted");
    }

    @Override
    public JobResult lastJobResult() {
        throw new UnsupportedOperationException("not scripted");
    }

    @Override
    public void abortBackupJob() {
        throw new UnsupportedOperationException("not scripted");
    }

    @Override
    public boolean freezeFilesystems() {
        throw new UnsupportedOperationException("not scripted");
    }

    @Override
    public void thawFilesystems() {
        throw new UnsupportedOperationException("not scripted");
    }
}
