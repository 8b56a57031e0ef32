package io.jenkins.plugins.virtbackup.engine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A hypervisor holding one scripted domain, for recovery paths the test driver cannot take. */
public final class ScriptedHypervisor implements Hypervisor {
    private final ScriptedVirtualMachine vm;
    /** The state files restored, in order; a restore starts the domain. */
    public final List<Path> restored = new ArrayList<>();

    public ScriptedHypervisor(ScriptedVirtualMachine vm) {
        this.vm = vm;
    }

    @Override
    public String uri() {
        return "test:///scripted";
    }

    @Override
    public VirtualMachine lookup(String domainName) {
        return vm;
    }

    @Override
    public void restoreState(Path file) {
        restored.add(file);
        vm.state = DomainState.RUNNING;
    }

    @Override
    public void close() {
    }
}
