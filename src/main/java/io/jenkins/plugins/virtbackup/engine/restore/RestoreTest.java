package io.jenkins.plugins.virtbackup.engine.restore;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.DomainIdentity;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.Hypervisor;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreResult.TestOutcome;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.engine.store.BackupVerifier;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * {@code virt-backup restore --test}: proves that a backup boots. Restores it as a transient clone
 * under a temporary name into a scratch folder, cut off from the network and from every device of
 * the host, boots it, waits for a sign of life ({@link LifeProof}), and removes everything again,
 * whatever the outcome.
 */
public final class RestoreTest {
    /** The clone's name: the original's, then this, then random hex: plain to see in {@code virsh list}. */
    static final String CLONE_INFIX = "-restore-test-";
    static final String CONSOLE_LOG = "console.log";
    private static final Pattern CLONE_NAME = Pattern.compile(
            ".+" + CLONE_INFIX + "[0-9a-f]{8}");

    /** Whether {@code domain} is named like a restore test's clone, which lives only while its test runs. */
    public static boolean isClone(String domain) {
        return CLONE_NAME.matcher(domain).matches();
    }

    private final Hypervisor hypervisor;
    private final BackupLog log;
    private final BackupVerifier verifier;
    private final ImageFlattener flattener;
    private volatile boolean cancelled;

    public RestoreTest(Hypervisor hypervisor, BackupLog log, BackupVerifier verifier, ImageFlattener flattener) {
        this.hypervisor = hypervisor;
        this.log = log;
        this.verifier = verifier;
        this.flattener = flattener;
    }

    /** The outcome and the clone's name (null when the test ended before it chose one). */
    public record Result(String cloneName, TestOutcome outcome) {
        public ExitStatus status() {
            return outcome.passed() ? ExitStatus.OK : ExitStatus.RESTORE_TEST_FAILED;
        }
    }

    public void cancel() {
        cancelled = true;
    }

    /**
     * Runs the test.
     *
     * @throws BackupException when the backup cannot be tested at all: it fails verification
     *         ({@link ExitStatus#VERIFY_FAILED}), is no backup, or the hypervisor fails
     */
    public Result run(RestoreTestRequest request) throws BackupException {
        BackupToRestore backup = BackupToRestore.open(request.backup(), verifier);
        DomainIdentity original = hypervisor.identity(backup.definitionXml());
        String clone = cloneName(original.name());
        log.milestone("restore test of " + backup.folder() + " as transient domain '" + clone + "'");
        removeLeftovers(request.scratchParent());
        try (RestoreUndo undo = new RestoreUndo(log)) {
            Path scratch = scratchFolder(request.scratchParent(), clone, undo);
            RestorePlan plan = RestorePlan.of(backup, hypervisor.definedDisks(backup.definitionXml()), clone, scratch,
                    true);
            Path console = scratch.resolve(CONSOLE_LOG);
            DefinitionChanges isolatedClone = new DefinitionChanges(clone, true, true, plan.images(),
                    plan.notInBackup().keySet(), scratch, console);
            String definition = DomainRestore.orUnchanged(
                    hypervisor.rewriteDefinition(backup.definitionXml(), isolatedClone), backup.definitionXml());
            LifeProof proof = proof(request.proof(), definition);
            RestoredImages.write(plan, flattener, undo, () -> cancelled, log);
            if (cancelled) {
                return new Result(clone, new TestOutcome(false, proof.cliName(), null, "the restore test was stopped"));
            }
            log.detail("booting the clone; proof of life: " + proof.cliName());
            long started = System.nanoTime();
            VirtualMachine vm = hypervisor.startTransient(definition);
            undo.started(vm, clone);
            TestOutcome outcome = new LifeWatch(vm, proof, console, request.consolePattern())
                    .await(started, request.timeout(), () -> cancelled);
            if (outcome.passed()) {
                log.milestone("restore test passed: " + outcome.detail() + " (" + outcome.secondsToLife() + " s)");
            } else {
                log.error("restore test FAILED: " + outcome.detail());
            }
            return new Result(clone, outcome);
        } catch (HypervisorException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "restore test could not run: " + e.getMessage()
                    + "; the clone and its files were removed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackupException(ExitStatus.BACKUP_FAILED, "restore test interrupted", e);
        }
    }

    /** The strongest proof the clone's definition allows, or the one asked for when it allows that. */
    private LifeProof proof(LifeProof asked, String definition) throws BackupException {
        LifeProof strongest = hypervisor.hasGuestAgentChannel(definition) ? LifeProof.AGENT
                : hypervisor.hasSerialPort(definition) ? LifeProof.CONSOLE : LifeProof.RUNNING;
        if (asked == null) {
            return strongest;
        }
        if (asked.ordinal() < strongest.ordinal()) {
            throw new BackupException(ExitStatus.USAGE, "--proof " + asked.cliName() + ": the backup's domain has no "
                    + (asked == LifeProof.AGENT ? "guest agent channel" : "serial port"));
        }
        return asked;
    }

    private String cloneName(String original) throws BackupException {
        String name = original + CLONE_INFIX + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        BackupDirectory.checkSafeName(name);
        try {
            if (hypervisor.existingDomain(name, null) != null) {
                throw new BackupException(ExitStatus.RESTORE_TARGET_EXISTS, "a domain named " + name + " exists");
            }
        } catch (HypervisorException e) {
            throw new BackupException(ExitStatus.HYPERVISOR_UNREACHABLE, e.getMessage(), e);
        }
        return name;
    }

    /**
     * A restore test killed with SIGKILL leaves its folder (its clone went with the connection):
     * folders of clones that no longer run are removed. Only folders named like a clone's are looked at.
     */
    private void removeLeftovers(Path scratchParent) throws BackupException {
        if (!Files.isDirectory(scratchParent)) {
            return;
        }
        try (DirectoryStream<Path> folders = Files.newDirectoryStream(scratchParent,
                entry -> Files.isDirectory(entry) && entry.getFileName().toString().contains(CLONE_INFIX))) {
            for (Path folder : folders) {
                if (hypervisor.existingDomain(folder.getFileName().toString(), null) == null) {
                    BackupDirectory.deleteTree(folder);
                    log.notice("removed " + folder + ", left by a restore test that was killed");
                }
            }
        } catch (IOException | HypervisorException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot clean up " + scratchParent + ": "
                    + e.getMessage(), e);
        }
    }

    /** A fresh folder QEMU may enter (libvirt gives it the images themselves). */
    private static Path scratchFolder(Path parent, String clone, RestoreUndo undo) throws BackupException {
        try {
            undo.createFolders(parent);
            Path scratch = Files.createDirectory(parent.resolve(clone));
            undo.created(scratch);
            Files.setPosixFilePermissions(scratch, PosixFilePermissions.fromString("rwx--x--x"));
            return scratch;
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot make the restore test's folder in " + parent
                    + ": " + BackupDirectory.describe(e), e);
        }
    }
}
