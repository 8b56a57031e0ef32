package io.jenkins.plugins.virtbackup.engine;

import io.jenkins.plugins.virtbackup.engine.restore.DefinitionChanges;
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
    public List<String> domainNames() {
        return List.of(vm.name());
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
    public void restoreState(Path file, String definitionXml) {
        throw notScripted();
    }

    @Override
    public String savedStateDefinition(Path file) {
        throw notScripted();
    }

    @Override
    public String existingDomain(String name, String uuid) {
        throw notScripted();
    }

    @Override
    public VirtualMachine define(String definitionXml) {
        throw notScripted();
    }

    @Override
    public VirtualMachine startTransient(String definitionXml) {
        throw notScripted();
    }

    @Override
    public List<Disk> definedDisks(String definitionXml) {
        throw notScripted();
    }

    @Override
    public DomainIdentity identity(String definitionXml) {
        throw notScripted();
    }

    @Override
    public boolean hasGuestAgentChannel(String definitionXml) {
        throw notScripted();
    }

    @Override
    public boolean hasSerialPort(String definitionXml) {
        throw notScripted();
    }

    @Override
    public String rewriteDefinition(String definitionXml, DefinitionChanges changes) {
        throw notScripted();
    }

    /** Restores run on the test driver and real QEMU; the recovery paths scripted here never restore. */
    private static UnsupportedOperationException notScripted() {
        return new UnsupportedOperationException("restore is not scripted");
    }

    @Override
    public void close() {
    }
}
