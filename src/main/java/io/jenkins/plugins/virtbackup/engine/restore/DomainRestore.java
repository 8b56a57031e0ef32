package io.jenkins.plugins.virtbackup.engine.restore;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.DomainIdentity;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.Hypervisor;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.engine.store.BackupVerifier;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code virt-backup restore}: a backup back to a defined domain, the original (same name and UUID,
 * disaster recovery) or a copy beside it (new name, UUID, MAC addresses and disk paths). Checks
 * everything before it writes anything, never overwrites, and takes away whatever it made when it
 * fails or is stopped.
 */
public final class DomainRestore {
    private final Hypervisor hypervisor;
    private final BackupLog log;
    private final BackupVerifier verifier;
    private final ImageFlattener flattener;
    private volatile boolean cancelled;

    public DomainRestore(Hypervisor hypervisor, BackupLog log, BackupVerifier verifier, ImageFlattener flattener) {
        this.hypervisor = hypervisor;
        this.log = log;
        this.verifier = verifier;
        this.flattener = flattener;
    }

    /** Stops a running restore (SIGTERM, SIGINT): it undoes what it made and fails. */
    public void cancel() {
        cancelled = true;
    }

    public RestoredDomain restore(RestoreRequest request) throws BackupException {
        BackupToRestore backup = BackupToRestore.open(request.backup(), verifier);
        DomainIdentity original = hypervisor.identity(backup.definitionXml());
        boolean copy = request.name() != null;
        String name = copy ? request.name() : original.name();
        if (copy) {
            BackupDirectory.checkSafeName(name);
        }
        log.milestone("restore of " + backup.folder() + " as domain '" + name + "'"
                + (copy ? " (a copy: new UUID and MAC addresses)" : " (UUID " + original.uuid() + ")"));
        RestorePlan plan = RestorePlan.of(backup, hypervisor.definedDisks(backup.definitionXml()), name,
                request.diskDir(), copy);
        requireNoDomain(name, copy ? null : original.uuid());
        RestoredImages.requireFree(plan);
        DefinitionChanges changes = copy
                ? new DefinitionChanges(name, true, false, plan.images(), plan.notInBackup().keySet(),
                        plan.firstDiskFolder() != null ? plan.firstDiskFolder() : request.diskDir(), null)
                : DefinitionChanges.disksOnly(plan.images());
        tellAboutDisksNotInBackup(plan, copy);
        String definition = orUnchanged(hypervisor.rewriteDefinition(backup.definitionXml(), changes),
                backup.definitionXml());
        try (RestoreUndo undo = new RestoreUndo(log)) {
            RestoredImages.write(plan, flattener, undo, () -> cancelled, log);
            requireNotCancelled();
            VirtualMachine vm = hypervisor.define(definition);
            undo.defined(vm, name);
            String started = request.start() ? start(vm, backup, plan, copy, undo, name) : null;
            requireNotCancelled();
            undo.keep();
            Map<String, Path> disks = new LinkedHashMap<>();
            plan.disks().forEach(disk -> disks.put(disk.target(), disk.destination()));
            log.milestone("restored domain '" + name + "' (UUID " + vm.uuid() + ") from " + backup.folder()
                    + (started == null ? "; it is shut off" : "; it was " + started));
            return new RestoredDomain(name, vm.uuid(), disks, started);
        } catch (HypervisorException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "restore failed: " + e.getMessage()
                    + "; everything it made was removed", e);
        }
    }

    private void requireNoDomain(String name, String uuid) throws BackupException {
        try {
            String clash = hypervisor.existingDomain(name, uuid);
            if (clash != null) {
                throw new BackupException(ExitStatus.RESTORE_TARGET_EXISTS, "cannot restore as '" + name + "': "
                        + clash + "; a restore never replaces a domain (remove it, or give --name); nothing was changed");
            }
        } catch (HypervisorException e) {
            throw new BackupException(ExitStatus.HYPERVISOR_UNREACHABLE, e.getMessage(), e);
        }
    }

    /**
     * The original resumes from the backup's RAM when there is one: its definition there is changed
     * only as far as the disks moved. A copy, or a backup without RAM, boots.
     */
    private String start(VirtualMachine vm, BackupToRestore backup, RestorePlan plan, boolean copy, RestoreUndo undo,
                         String name) throws HypervisorException {
        if (backup.memoryState() != null && !copy) {
            String saved = hypervisor.savedStateDefinition(backup.memoryState());
            hypervisor.restoreState(backup.memoryState(),
                    hypervisor.rewriteDefinition(saved, DefinitionChanges.disksOnly(plan.images())));
            undo.started(vm, name);
            return RestoredDomain.RESUMED;
        }
        if (backup.memoryState() != null) {
            log.notice("the backup's RAM is not used: a copy under a new name boots instead");
        }
        vm.start();
        undo.started(vm, name);
        return RestoredDomain.BOOTED;
    }

    private void tellAboutDisksNotInBackup(RestorePlan plan, boolean copy) {
        plan.notInBackup().forEach((target, source) -> log.notice("disk " + target + " (" + source
                + ") is not in the backup: " + (copy ? "left out of the copy, which must not write into the "
                + "original's storage" : "the definition still names it")));
    }

    private void requireNotCancelled() throws BackupException {
        if (cancelled) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "restore stopped; everything it made was removed");
        }
    }

    static String orUnchanged(String rewritten, String original) {
        return rewritten != null ? rewritten : original;
    }
}
