package io.jenkins.plugins.virtbackup.libvirt;

import static io.jenkins.plugins.virtbackup.libvirt.TestDriverBed.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.BackupRequest;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.store.Increment;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import io.jenkins.plugins.virtbackup.testing.TmpfsMount;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bad input and every failing target ends with its exit status and one clear line, and
 * changes nothing: the domain is as found, earlier backups are intact, nothing looks complete.
 */
class BadInputOnTestDriverTest {
    @TempDir
    Path dir;
    TestDriverBed bed;

    @BeforeEach
    void setUp() throws Exception {
        bed = new TestDriverBed(dir);
    }

    @AfterEach
    void tearDown() {
        bed.close();
    }

    @Test
    void unknownDomain() throws Exception {
        assertFails(request("nosuch", BackupMode.SUSPEND, bed.backups), ExitStatus.NOT_FOUND,
                "domain 'nosuch' not found");
        assertThat(bed.backups).doesNotExist();
        assertThat(bed.errorReports).as("a missing domain is an answer, not a libvirt failure").isEmpty();
    }

    @Test
    void unknownDisk() throws Exception {
        assertFails(request("web", BackupMode.SUSPEND, bed.backups, "vda", "sdz"), ExitStatus.NOT_FOUND,
                "domain 'web' has no disk 'sdz'");
        assertThat(bed.backups).doesNotExist();
        assertThat(bed.state("web")).isEqualTo(DomainState.RUNNING);
    }

    @Test
    void aRequestedCdromCannotBeBackedUp() throws Exception {
        assertFails(request("web", BackupMode.SUSPEND, bed.backups, "hdc"), ExitStatus.USAGE, "it is a cdrom");
        assertThat(bed.backups).doesNotExist();
    }

    @Test
    void liveModesTheHypervisorCannotDoFailCleanly() throws Exception {
        // The test driver has neither external snapshots nor backup jobs: a real refusal by libvirt.
        assertFails(request("web", BackupMode.SNAPSHOT_LIBVIRT, bed.backups), ExitStatus.BACKUP_FAILED,
                "cannot snapshot domain 'web'");
        assertFails(request("web", BackupMode.LIVE, bed.backups), ExitStatus.BACKUP_FAILED,
                "cannot start the backup job of domain 'web'");
        assertThat(bed.backups).doesNotExist();
        assertThat(bed.state("web")).isEqualTo(DomainState.RUNNING);
        assertThat(bed.hypervisor.lookup("web").disks()).extracting(d -> d.source())
                .as("no overlay in the definition").noneMatch(s -> s != null && s.contains("overlay"));
    }

    @Test
    void levelsBelowFullNeedLiveModeARunningDomainAndAChain() throws Exception {
        assertFails(request("web", BackupMode.SUSPEND, bed.backups).withLevel(BackupLevel.INC), ExitStatus.USAGE,
                "--level inc needs mode live");
        assertFails(request("web", BackupMode.SHUTDOWN, bed.backups).withLevel(BackupLevel.DIFF), ExitStatus.USAGE,
                "--level diff needs mode live");
        assertFails(request("web", BackupMode.LIVE, bed.backups).withLevel(BackupLevel.INC), ExitStatus.CHAIN_BROKEN,
                "there is no earlier backup of it in " + bed.backups.resolve("web"));
        assertFails(request("off", BackupMode.LIVE, bed.backups).withLevel(BackupLevel.DIFF), ExitStatus.CHAIN_BROKEN,
                "it is shut off");
        assertThat(bed.backups).doesNotExist();
        assertThat(bed.state("web")).isEqualTo(DomainState.RUNNING);

        bed.console.reset();
        Manifest off = bed.backUp(request("off", BackupMode.LIVE, bed.backups).withLevel(BackupLevel.AUTO));
        assertThat(off.increment().level()).isEqualTo(BackupLevel.FULL);
        assertThat(off.increment().checkpoint()).as("a shut-off domain gets no checkpoint").isNull();
        assertThat(bed.consoleText()).contains("level auto: taking a full backup, since the chain cannot be extended: it is shut off");
        Manifest suspended = bed.backUp(request("web", BackupMode.SUSPEND, bed.backups).withLevel(BackupLevel.AUTO));
        assertThat(suspended.increment()).as("auto means full outside live mode").isEqualTo(Increment.STANDALONE);
    }

    @Test
    void shutdownModeRefusesPausedAndTransientDomains() throws Exception {
        assertFails(request("paused", BackupMode.SHUTDOWN, bed.backups), ExitStatus.BACKUP_FAILED, "is paused");
        assertFails(request("transient", BackupMode.SHUTDOWN, bed.backups), ExitStatus.BACKUP_FAILED, "transient");
        assertThat(bed.state("paused")).isEqualTo(DomainState.PAUSED);
        assertThat(bed.state("transient")).isEqualTo(DomainState.RUNNING);
        assertThat(bed.backups).doesNotExist();
    }

    @Test
    void aBackupRootThatIsAFile() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertFails(request("web", BackupMode.SUSPEND, file), ExitStatus.BACKUP_FAILED, "Not a directory");
        assertThat(file).hasContent("x");
        assertThat(bed.state("web")).isEqualTo(DomainState.RUNNING);
    }

    @Test
    void aReadOnlyBackupRoot() throws Exception {
        try (TmpfsMount target = TmpfsMount.mount(dir.resolve("ro"), "size=16m")) {
            target.remountReadOnly();
            assertFails(request("web", BackupMode.SUSPEND, target.dir()), ExitStatus.BACKUP_FAILED,
                    "Read-only file system");
            assertThat(target.dir()).isEmptyDirectory();
        }
        assertThat(bed.state("web")).isEqualTo(DomainState.RUNNING);
    }

    @Test
    void aFileSystemTooSmallForTheDisksIsFoundBeforeTheDomainIsTouched() throws Exception {
        try (TmpfsMount target = TmpfsMount.mount(dir.resolve("small"), "size=40m")) {
            bed.backUp(request("off", BackupMode.SUSPEND, target.dir()));
            Map<String, String> earlier = Trees.snapshot(target.dir());

            assertFails(request("web", BackupMode.SUSPEND, target.dir()), ExitStatus.BACKUP_FAILED,
                    "not enough space");

            assertThat(Trees.snapshot(target.dir())).as("earlier backups, and nothing else").isEqualTo(earlier);
        }
        assertThat(bed.state("web")).isEqualTo(DomainState.RUNNING);
        assertThat(bed.syslog).noneMatch(line -> line.contains("saving"));
    }

    @Test
    void aFileSystemFillingUpMidBackupLeavesTheDomainRunningAndNoCompleteLookingDirectory() throws Exception {
        // Out of inodes is a real "No space left on device" that the byte count cannot predict:
        // the domain's state is saved, then creating the first disk copy fails.
        try (TmpfsMount target = TmpfsMount.mount(dir.resolve("full"), "size=256m,nr_inodes=12")) {
            bed.backUp(request("off", BackupMode.SUSPEND, target.dir()));
            Map<String, String> earlier = Trees.snapshot(target.dir());

            assertFails(request("web", BackupMode.SUSPEND, target.dir()), ExitStatus.BACKUP_FAILED,
                    "No space left on device");

            assertThat(Trees.snapshot(target.dir())).isEqualTo(earlier);
        }
        assertThat(bed.state("web")).isEqualTo(DomainState.RUNNING);
        assertThat(bed.consoleText()).contains("virt-backup: error: cannot write the backup");
    }

    @Test
    void aFailedSaveLeavesTheDomainRunning() throws Exception {
        // Room for the directories, the log and domain.xml, not for memory.state.
        try (TmpfsMount target = TmpfsMount.mount(dir.resolve("full"), "size=256m,nr_inodes=6")) {
            assertFails(request("web", BackupMode.SUSPEND, target.dir()), ExitStatus.BACKUP_FAILED,
                    "cannot save the state of domain 'web'");
            assertThat(target.dir()).isEmptyDirectory();
        }
        assertThat(bed.state("web")).isEqualTo(DomainState.RUNNING);
        assertThat(bed.errorReports).singleElement().asString().contains("libvirt: save state to");
    }

    @Test
    void aNameThatWouldEscapeTheBackupRootIsRefused() throws Exception {
        assertFails(request("../web", BackupMode.SUSPEND, bed.backups), ExitStatus.USAGE,
                "cannot be used as a directory name");
        assertThat(bed.backups).doesNotExist();
    }

    /** Runs the request, expecting it to fail with {@code status} and a one-line message containing {@code text}. */
    private void assertFails(BackupRequest request, ExitStatus status, String text) {
        bed.console.reset();
        assertThatThrownBy(() -> bed.backUp(request)).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.status()).isEqualTo(status);
            assertThat(e.getMessage()).contains(text).doesNotContain("\n");
        });
        assertThat(bed.consoleText().lines().filter(line -> line.contains("error:"))).hasSize(1);
        assertThat(leftovers()).as("unfinished backups left behind").isEmpty();
    }

    private java.util.List<Path> leftovers() {
        Path root = bed.backups;
        if (!Files.exists(root)) {
            return java.util.List.of();
        }
        try (var walk = Files.walk(root)) {
            return walk.filter(p -> p.getFileName().toString().endsWith(".partial")).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
