package io.jenkins.plugins.virtbackup.libvirt;

import static io.jenkins.plugins.virtbackup.libvirt.TestDriverBed.MIB;
import static io.jenkins.plugins.virtbackup.libvirt.TestDriverBed.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.BackupRequest;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.copy.FsyncTrace;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.store.Json;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole backups through the engine against libvirt's test driver, on real image files. */
class BackupOnTestDriverTest {
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
    void suspendModeSavesRamCopiesDisksAndLeavesTheDomainRunning() throws Exception {
        Manifest manifest = bed.backUp(request("web", BackupMode.SUSPEND, bed.backups));

        Path backup = onlyBackupOf("web");
        assertThat(backup.getFileName().toString()).matches("\\d{8}T\\d{6}Z");
        assertThat(names(backup)).containsExactlyInAnyOrder(
                "domain.xml", "vda.raw", "vdb.qcow2", "memory.state", "manifest.json", "virt-backup.log",
                "domain.xml.chunks", "vda.raw.chunks", "vdb.qcow2.chunks", "memory.state.chunks");
        assertThat(bed.state("web")).isEqualTo(DomainState.RUNNING);
        assertThat(manifest.downtimeMillis()).isPositive();
        assertThat(manifest.skipped()).containsOnlyKeys("hdc", "vdc");
        assertThat(manifest.verified()).as("read back only with --verify").isFalse();

        assertManifestMatchesFiles(backup);
        assertThat(Trees.sha256(backup.resolve("vda.raw"))).isEqualTo(Trees.sha256(bed.images.resolve("web-root.raw")));
        assertThat(Trees.sha256(backup.resolve("vdb.qcow2")))
                .isEqualTo(Trees.sha256(bed.images.resolve("web-data.qcow2")));
    }

    @Test
    void theSavedStateRestoresTheDomain() throws Exception {
        bed.backUp(request("web", BackupMode.SUSPEND, bed.backups));
        Path state = onlyBackupOf("web").resolve("memory.state");

        // A fresh connection starts from the node XML again; take the domain down, then restore it.
        try (LibvirtHypervisor other = LibvirtHypervisor.connect(bed.uri, report -> { })) {
            other.lookup("web").forceOff();
            other.restoreState(state);
            assertThat(other.lookup("web").state()).isEqualTo(DomainState.RUNNING);
        }
    }

    @Test
    void shutdownModeStartsTheDomainAgainAndSavesNoRam() throws Exception {
        Manifest manifest = bed.backUp(request("web", BackupMode.SHUTDOWN, bed.backups));

        Path backup = onlyBackupOf("web");
        assertThat(names(backup)).doesNotContain("memory.state").contains("vda.raw", "vdb.qcow2");
        assertThat(manifest.mode()).isEqualTo(BackupMode.SHUTDOWN);
        assertThat(bed.state("web")).isEqualTo(DomainState.RUNNING);
        assertManifestMatchesFiles(backup);
    }

    @Test
    void aShutOffDomainIsCopiedAsItIsInAnyMode() throws Exception {
        for (BackupMode mode : List.of(BackupMode.SUSPEND, BackupMode.SHUTDOWN)) {
            Manifest manifest = bed.backUp(request("off", mode, bed.backups.resolve(mode.cliName())));
            assertThat(manifest.downtimeMillis()).isZero();
            assertThat(manifest.files()).extracting(f -> f.name()).containsExactly("domain.xml", "vda.raw");
            assertThat(bed.state("off")).isEqualTo(DomainState.SHUT_OFF);
        }
    }

    @Test
    void aPausedDomainIsPausedAgainAfterASuspendBackup() throws Exception {
        bed.backUp(request("paused", BackupMode.SUSPEND, bed.backups));

        assertThat(bed.state("paused")).isEqualTo(DomainState.PAUSED);
        assertThat(names(onlyBackupOf("paused"))).contains("memory.state");
    }

    @Test
    void aTransientDomainIsBackedUpInSuspendMode() throws Exception {
        bed.backUp(request("transient", BackupMode.SUSPEND, bed.backups));

        assertThat(bed.state("transient")).isEqualTo(DomainState.RUNNING);
        assertManifestMatchesFiles(onlyBackupOf("transient"));
    }

    @Test
    void aDomainWithoutDisksStillGetsItsDefinitionAndState() throws Exception {
        Manifest manifest = bed.backUp(request("diskless", BackupMode.SUSPEND, bed.backups));

        assertThat(manifest.files()).extracting(f -> f.name()).containsExactly("domain.xml", "memory.state");
        assertThat(bed.state("diskless")).isEqualTo(DomainState.RUNNING);
    }

    @Test
    void blkdevSelectsDisksByTargetOrSourcePath() throws Exception {
        Manifest byTarget = bed.backUp(request("web", BackupMode.SUSPEND, bed.backups.resolve("a"), "vdb"));
        Manifest byPath = bed.backUp(request("web", BackupMode.SUSPEND, bed.backups.resolve("b"),
                bed.images.resolve("web-root.raw").toString()));

        assertThat(byTarget.files()).extracting(f -> f.name()).containsExactly("domain.xml", "vdb.qcow2", "memory.state");
        assertThat(byTarget.skipped()).containsEntry("vda", "not requested");
        assertThat(byPath.files()).extracting(f -> f.name()).containsExactly("domain.xml", "vda.raw", "memory.state");
    }

    @Test
    void aSparseDiskStaysSparse() throws Exception {
        Manifest manifest = bed.backUp(request("web", BackupMode.SUSPEND, bed.backups, "vda"));

        Path copy = onlyBackupOf("web").resolve("vda.raw");
        assertThat(Files.size(copy)).isEqualTo(64 * MIB);
        // 2 MiB of data at the start and 2 MiB in the middle; the other 60 MiB are holes.
        assertThat(Host.allocatedBytes(copy)).isLessThanOrEqualTo(5 * MIB);
        assertThat(manifest.files().get(1).dataBytes()).as("the data moved: the source's data extents only")
                .isEqualTo(4 * MIB);
        assertThat(manifest.files().get(0).dataBytes()).as("the definition, all data")
                .isEqualTo(manifest.files().get(0).size());
    }

    @Test
    void everyFileAndItsChunkIndexIsSyncedBeforeTheFolderGetsItsName() throws Exception {
        Set<Path> synced = FsyncTrace.of(() -> {
            try {
                bed.backUp(request("web", BackupMode.SUSPEND, bed.backups));
            } catch (BackupException e) {
                throw new IOException(e);
            }
        });

        Path backup = onlyBackupOf("web");
        Path partial = backup.resolveSibling(backup.getFileName() + ".partial");
        List<String> expected = names(backup).stream()
                .filter(name -> !name.equals("manifest.json"))  // written with O_DSYNC: no fsync call to see
                .toList();
        assertThat(expected).contains("vda.raw", "vda.raw.chunks", "memory.state", "memory.state.chunks",
                "domain.xml", "domain.xml.chunks", "virt-backup.log");
        assertThat(synced).as("fsynced while the folder was still %s", partial)
                .containsAll(expected.stream().map(partial::resolve).toList())
                .contains(partial, backup.getParent());
    }

    @Test
    void aBackupIsReadableByItsOwnerOnly() throws Exception {
        bed.backUp(request("web", BackupMode.SUSPEND, bed.backups));

        Path backup = onlyBackupOf("web");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(backup))).isEqualTo("rwx--x--x");
        for (String name : names(backup)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(backup.resolve(name))))
                    .as(name).isEqualTo("rw-------");
        }
    }

    @Test
    void theDefinitionIsTheInactiveOneWithoutSecureInfo() throws Exception {
        bed.backUp(request("web", BackupMode.SUSPEND, bed.backups));

        String xml = Files.readString(onlyBackupOf("web").resolve("domain.xml"));
        assertThat(xml).contains("<name>web</name>").doesNotContain("<domain type='test' id=");
    }

    @Test
    void oddButHarmlessNamesBecomeTheirOwnDirectory() throws Exception {
        bed.backUp(request(TestDriverBed.ODD_NAME, BackupMode.SUSPEND, bed.backups));

        assertThat(bed.backups.resolve(TestDriverBed.ODD_NAME)).isDirectory();
        assertThat(bed.state(TestDriverBed.ODD_NAME)).isEqualTo(DomainState.RUNNING);
    }

    @Test
    void startAndEndGoToSyslogAndConsoleButDetailsDoNot() throws Exception {
        bed.backUp(request("web", BackupMode.SUSPEND, bed.backups));

        assertThat(bed.syslog).hasSize(4);
        assertThat(bed.syslog.get(0)).startsWith("INFO backup of domain 'web' started");
        assertThat(bed.syslog.subList(1, 3)).anyMatch(line -> line.startsWith("NOTICE disk hdc skipped: it is a cdrom"))
                .anyMatch(line -> line.startsWith("NOTICE disk vdc skipped: its source is of type 'network'"));
        assertThat(bed.syslog.get(3)).startsWith("INFO backup of domain 'web' complete");
        assertThat(bed.consoleText().lines()).hasSize(4);
        assertThat(Files.readString(onlyBackupOf("web").resolve("virt-backup.log")))
                .contains("saving the state of domain 'web'").doesNotContain("read back");
    }

    @Test
    void withVerifyEveryFileIsReadBackBeforeTheBackupIsComplete() throws Exception {
        BackupRequest plain = request("web", BackupMode.SUSPEND, bed.backups);
        bed.backUp(new BackupRequest(plain.domain(), plain.disks(), plain.mode(), plain.backupRoot(),
                plain.shutdownTimeout(), false, false, null, true));

        assertThat(Files.readString(onlyBackupOf("web").resolve("virt-backup.log")))
                .contains("read back 4 file(s): every chunk matches what was written");
        assertManifestMatchesFiles(onlyBackupOf("web"));
        assertThat(Manifest.read(onlyBackupOf("web")).verified()).as("the manifest says so").isTrue();
    }

    @SuppressWarnings("unchecked")
    private static void assertManifestMatchesFiles(Path backup) throws Exception {
        Map<String, Object> manifest = (Map<String, Object>) Json.parse(Files.readString(backup.resolve("manifest.json")));
        assertThat(manifest).containsEntry("result", "complete").containsEntry("tool", "virt-backup");
        List<Map<String, Object>> files = (List<Map<String, Object>>) manifest.get("files");
        assertThat(files).isNotEmpty();
        for (Map<String, Object> file : files) {
            Path path = backup.resolve((String) file.get("name"));
            assertThat(Files.size(path)).as("size of " + path).isEqualTo(file.get("size"));
            Map<String, Object> chunks = (Map<String, Object>) file.get("chunks");
            Path index = backup.resolve((String) chunks.get("file"));
            assertThat(chunks).containsEntry("chunkSize", (long) (1 << 20));
            assertThat(Files.readAllLines(index)).as("chunk index of " + path)
                    .isEqualTo(Trees.chunkLines(path, 1 << 20));
            assertThat(Trees.sha256(index)).as("sha256 of " + index).isEqualTo(chunks.get("sha256"));
        }
    }

    private Path onlyBackupOf(String domain) throws Exception {
        try (Stream<Path> entries = Files.list(bed.backups.resolve(domain))) {
            List<Path> all = entries.toList();
            assertThat(all).hasSize(1);
            return all.get(0);
        }
    }

    private static List<String> names(Path dir) throws Exception {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).toList();
        }
    }
}
