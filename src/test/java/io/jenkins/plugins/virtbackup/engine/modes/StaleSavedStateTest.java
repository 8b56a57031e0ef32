package io.jenkins.plugins.virtbackup.engine.modes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.ScriptedHypervisor;
import io.jenkins.plugins.virtbackup.engine.ScriptedVirtualMachine;
import io.jenkins.plugins.virtbackup.engine.image.FileIdentity;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.recovery.JournalReplay;
import io.jenkins.plugins.virtbackup.engine.recovery.RecoveryJournal;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A saved RAM state belongs to the disks as they were at the save. Restored over disks that changed
 * since (an admin followed the exit-5 hint, ran the guest, shut it down), it would corrupt the
 * guest's file systems: neither the run nor recovery may do it.
 */
class StaleSavedStateTest {
    @TempDir
    Path dir;
    private Path disk;
    private Path stateFile;
    private final ScriptedVirtualMachine vm = new ScriptedVirtualMachine();
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private BackupLog log;
    private final ScriptedHypervisor hypervisor = new ScriptedHypervisor(vm);

    @BeforeEach
    void domainWithOneDisk() throws Exception {
        disk = Files.write(dir.resolve("web.qcow2"), new byte[] {1, 2, 3});
        stateFile = Files.write(Files.createDirectories(dir.resolve("web/20250101T000000Z.partial"))
                .resolve("memory.state"), new byte[] {9});
        vm.disks = List.of(new Disk("vda", "disk", "file", disk.toString(), "qcow2", false, false),
                new Disk("hdc", "cdrom", "file", null, "raw", true, false));
        log = new BackupLog(new PrintStream(output, true, StandardCharsets.UTF_8), true, SyslogSink.NONE);
    }

    @AfterEach
    void closeLog() {
        log.close();
    }

    @Test
    void recoveryRefusesToRestoreOverDisksThatChangedSinceTheSave() throws Exception {
        RecoveryJournal journal = journalAfterSave();
        vm.state = DomainState.SHUT_OFF;
        guestRanAndWrote();

        assertThatThrownBy(() -> new JournalReplay(hypervisor, log).finish(journal))
                .isInstanceOfSatisfying(BackupException.class, e -> {
                    assertThat(e.status()).isEqualTo(ExitStatus.VM_NOT_RESTORED);
                    assertThat(e.getMessage()).contains("was not restored from " + stateFile)
                            .contains("its disks changed since").contains(disk.toString())
                            .contains("virsh start 'web'");
                });

        assertThat(hypervisor.restored).as("the stale state was not replayed").isEmpty();
        assertThat(vm.state).isEqualTo(DomainState.SHUT_OFF);
        assertThat(RecoveryJournal.of(new StateDirectory(dir.resolve("state")), hypervisor.uri(), "web").isEmpty())
                .as("refused once and for all: later runs are not blocked by it").isTrue();
        assertThat(output.toString(StandardCharsets.UTF_8)).contains("its disks changed since");
    }

    @Test
    void recoveryRestoresWhenTheDisksAreAsSaved() throws Exception {
        RecoveryJournal journal = journalAfterSave();
        vm.state = DomainState.SHUT_OFF;

        new JournalReplay(hypervisor, log).finish(journal);

        assertThat(hypervisor.restored).containsExactly(stateFile);
        assertThat(vm.state).isEqualTo(DomainState.RUNNING);
    }

    @Test
    void theRunItselfDoesNotRestoreOverDisksThatChangedWhileItCopied() throws Exception {
        RecoveryJournal journal = RecoveryJournal.of(new StateDirectory(dir.resolve("state")), hypervisor.uri(), "web");
        SuspendHold hold = new SuspendHold(hypervisor, vm, "web", stateFile, false, log, journal);
        hold.hold();
        assertThat(journal.pending()).singleElement().satisfies(step ->
                assertThat(step.details()).containsKey(SuspendHold.DISKS));
        guestRanAndWrote();

        assertThatThrownBy(hold::putBack).isInstanceOfSatisfying(BackupException.class,
                e -> assertThat(e.status()).isEqualTo(ExitStatus.VM_NOT_RESTORED));
        assertThat(hypervisor.restored).isEmpty();
    }

    @Test
    void theRunRestoresDisksItOnlyRead() throws Exception {
        RecoveryJournal journal = RecoveryJournal.of(new StateDirectory(dir.resolve("state")), hypervisor.uri(), "web");
        SuspendHold hold = new SuspendHold(hypervisor, vm, "web", stateFile, false, log, journal);
        hold.hold();
        Files.readAllBytes(disk);  // the copy reads the disk

        hold.putBack();

        assertThat(hypervisor.restored).containsExactly(stateFile);
        assertThat(journal.pending()).isEmpty();
    }

    /** The journal a run leaves when it dies right after saving the domain. */
    private RecoveryJournal journalAfterSave() throws Exception {
        RecoveryJournal journal = RecoveryJournal.of(new StateDirectory(dir.resolve("state")), hypervisor.uri(), "web");
        journal.startedBackup(stateFile.getParent());
        journal.willDo(new RecoveryJournal.Undo(RecoveryJournal.Undo.RESTORE, Map.of("file", stateFile.toString(),
                "paused", "false", SuspendHold.DISKS, FileIdentity.toJournal(FileIdentity.of(List.of(disk))))));
        return RecoveryJournal.of(new StateDirectory(dir.resolve("state")), hypervisor.uri(), "web");
    }

    /** An admin restored the domain by hand, its guest wrote, and it was shut down again. */
    private void guestRanAndWrote() throws Exception {
        Files.write(disk, new byte[] {1, 2, 4});
        Files.setLastModifiedTime(disk, FileTime.from(Instant.now().plus(Duration.ofSeconds(5))));
    }
}
