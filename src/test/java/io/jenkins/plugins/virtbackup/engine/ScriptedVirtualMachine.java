package io.jenkins.plugins.virtbackup.engine;

import io.jenkins.plugins.virtbackup.engine.modes.FreezeResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A domain whose behaviour a unit test scripts: for the paths the test driver cannot take, like a
 * guest that ignores the shutdown request, or a start that fails. Records every call.
 */
public final class ScriptedVirtualMachine implements VirtualMachine {
    public final List<String> calls = new ArrayList<>();
    public DomainState state = DomainState.RUNNING;
    public boolean guestObeysShutdown = true;
    /** The domain's checkpoints, oldest first. */
    public final List<String> checkpoints = new ArrayList<>();
    public boolean startFails;
    /** How long an obeyed shutdown takes: the guest reports running meanwhile, as during an ACPI shutdown. */
    public Duration shutdownTakes = Duration.ZERO;
    /** When the shutdown under way ends (System.nanoTime()), or 0 when none is. */
    private long poweredOffAt;
    /** What a freeze answers; null: freezing is not scripted. */
    public FreezeResult freezeAnswer;
    /** How many thaw calls fail before one succeeds. */
    public int thawsFailing;

    @Override
    public String name() {
        return "scripted";
    }

    @Override
    public String uuid() {
        return "00000000-0000-0000-0000-000000000000";
    }

    @Override
    public synchronized DomainState state() {
        if (poweredOffAt != 0 && System.nanoTime() - poweredOffAt >= 0) {
            poweredOffAt = 0;
            state = DomainState.SHUT_OFF;
        }
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

    public List<Disk> disks = List.of();

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
    public synchronized void requestShutdown() {
        calls.add("shutdown");
        if (guestObeysShutdown && shutdownTakes.isZero()) {
            state = DomainState.SHUT_OFF;
        } else if (guestObeysShutdown) {
            poweredOffAt = System.nanoTime() + shutdownTakes.toNanos();
        }
    }

    @Override
    public void forceOff() {
        calls.add("forceOff");
        state = DomainState.SHUT_OFF;
    }

    @Override
    public void undefine() {
        calls.add("undefine");
    }

    @Override
    public boolean pingGuestAgent() {
        calls.add("pingGuestAgent");
        return false;
    }

    @Override
    public synchronized void start() throws HypervisorException {
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
    public final java.util.Deque<BlockJobState> blockJobStates = new java.util.ArrayDeque<>();

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

    /** Whether beginPullBackup starts a job (and takes its checkpoint); false: it is not scripted. */
    public boolean pullJobStarts;
    /** Why libvirt refuses to start a pull job; null: it does not. */
    public String pullJobRefused;
    /** Why reading the running pull job fails; null: it is not scripted. */
    public String pullJobUnreadable;
    private boolean jobActive;

    @Override
    public synchronized void beginPullBackup(PullBackupRequest request) throws HypervisorException {
        if (pullJobRefused != null) {
            calls.add("begin pull backup refused");
            throw new HypervisorException(HypervisorException.Kind.OTHER, pullJobRefused, null);
        }
        if (!pullJobStarts) {
            throw new UnsupportedOperationException("not scripted");
        }
        calls.add("begin pull backup");
        jobActive = true;
        if (request.checkpointName() != null) {
            checkpoints.add(request.checkpointName());
        }
    }

    @Override
    public PullBackupExport pullBackupExport() throws HypervisorException {
        if (pullJobUnreadable == null) {
            throw new UnsupportedOperationException("not scripted");
        }
        throw new HypervisorException(HypervisorException.Kind.OTHER, pullJobUnreadable, null);
    }

    @Override
    public long diskCapacity(String target) {
        throw new UnsupportedOperationException("not scripted");
    }

    @Override
    public List<String> checkpointNames() {
        return List.copyOf(checkpoints);
    }

    @Override
    public String checkpointXml(String name) {
        throw new UnsupportedOperationException("not scripted");
    }

    /** What validating each checkpoint answers, by name; a name missing here is not scripted. */
    public final Map<String, CheckpointCheck> checkpointChecks = new HashMap<>();
    /** The saved XML each validation was given, by checkpoint name: what a redefine would use. */
    public final Map<String, String> validatedWithXml = new HashMap<>();
    /** What validating any checkpoint throws, as when libvirt itself cannot answer; null: it answers. */
    public HypervisorException validationFailure;

    @Override
    public CheckpointCheck validateCheckpoint(String name, String savedXml) throws HypervisorException {
        calls.add("validate checkpoint " + name);
        validatedWithXml.put(name, savedXml);
        if (validationFailure != null) {
            throw validationFailure;
        }
        CheckpointCheck check = checkpointChecks.get(name);
        if (check == null) {
            throw new UnsupportedOperationException("checkpoint " + name + " not scripted");
        }
        return check;
    }

    @Override
    public void deleteCheckpoint(String name) {
        calls.add("delete checkpoint " + name);
        checkpoints.remove(name);
    }

    @Override
    public synchronized JobProgress currentJob() {
        if (!pullJobStarts) {
            throw new UnsupportedOperationException("not scripted");
        }
        return new JobProgress(jobActive, 0, 0);
    }

    @Override
    public synchronized void abortBackupJob() {
        if (!pullJobStarts) {
            throw new UnsupportedOperationException("not scripted");
        }
        calls.add("abort job");
        jobActive = false;
    }

    @Override
    public FreezeResult freezeFilesystems() {
        if (freezeAnswer == null) {
            throw new UnsupportedOperationException("not scripted");
        }
        calls.add("freeze");
        return freezeAnswer;
    }

    @Override
    public void thawFilesystems() throws HypervisorException {
        calls.add("thaw");
        if (thawsFailing > 0) {
            thawsFailing--;
            throw new HypervisorException(HypervisorException.Kind.OTHER, "Guest agent not available for now", null);
        }
    }
}
