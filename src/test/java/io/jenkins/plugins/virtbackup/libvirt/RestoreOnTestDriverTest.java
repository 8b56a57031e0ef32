package io.jenkins.plugins.virtbackup.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.BackupRequest;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.restore.DomainRestore;
import io.jenkins.plugins.virtbackup.engine.restore.ImageFlattener;
import io.jenkins.plugins.virtbackup.engine.restore.LifeProof;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreRequest;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreTest;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreTestRequest;
import io.jenkins.plugins.virtbackup.engine.restore.RestoredDomain;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.engine.store.BackupVerifier;
import io.jenkins.plugins.virtbackup.engine.store.Json;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.TestEngines;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restores through the engine against libvirt's test driver, on real image files, on one
 * connection, so that a test sees what the restore defined and started.
 */
class RestoreOnTestDriverTest {
    private static final long MIB = 1 << 20;
    private static final String MAC = "52:54:00:aa:bb:cc";

    @TempDir
    Path dir;
    Path images;
    Path backups;
    StateDirectory state;
    LibvirtHypervisor hypervisor;
    final ByteArrayOutputStream console = new ByteArrayOutputStream();
    final List<String> toolErrors = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        images = dir.resolve("images");
        backups = dir.resolve("backups");
        state = new StateDirectory(dir.resolve("state"));
        TestDriverNode node = new TestDriverNode(images);
        Path root = node.rawImage("web-root.raw", 16 * MIB, (int) (2 * MIB), 11);
        Path data = node.qcow2Image("web-data.qcow2", 16 * MIB, 2);
        String uri = node.domain("web", RunState.RUNNING, true,
                        TestDriverNode.fileDisk("vda", root, "raw"),
                        TestDriverNode.fileDisk("vdb", data, "qcow2"),
                        TestDriverNode.emptyCdrom("hdc"),
                        TestDriverNode.networkDisk("vdc"),
                        "<interface type='network'><mac address='" + MAC + "'/><source network='default'/></interface>")
                .write();
        hypervisor = LibvirtHypervisor.connect(uri, report -> { });
    }

    @AfterEach
    void tearDown() {
        hypervisor.close();
    }

    private BackupLog log() {
        return new BackupLog(new PrintStream(console, true, StandardCharsets.UTF_8), true, (severity, message) -> { });
    }

    private Path backUp() throws BackupException, IOException {
        try (BackupLog log = log()) {
            TestEngines.of(hypervisor, log, state).run(new BackupRequest("web", List.of(), BackupMode.SUSPEND, backups,
                    Duration.ofSeconds(5), false, false));
        }
        try (Stream<Path> found = Files.list(backups.resolve("web"))) {
            return found.filter(Files::isDirectory).findFirst().orElseThrow();
        }
    }

    private ImageFlattener qemuImg() {
        return new QemuImgConvert(BackupDirectory.FILE_MODE, (tool, text) -> toolErrors.add(tool + ": " + text));
    }

    private RestoredDomain restore(RestoreRequest request, ImageFlattener flattener) throws BackupException {
        try (BackupLog log = log()) {
            return new DomainRestore(hypervisor, log, new BackupVerifier(log, new LinuxFileExtents()), flattener)
                    .restore(request);
        }
    }

    private String text() {
        return console.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aCopyGetsANewIdentityAndDisksThatEqualTheBackup() throws Exception {
        Path backup = backUp();
        Path target = dir.resolve("restored");
        String originalUuid = hypervisor.lookup("web").uuid();

        RestoredDomain copy = restore(new RestoreRequest(backup, "web-copy", target, true), qemuImg());

        assertThat(copy.name()).isEqualTo("web-copy");
        assertThat(copy.uuid()).isNotEqualTo(originalUuid);
        assertThat(copy.started()).isEqualTo(RestoredDomain.BOOTED);
        assertThat(copy.disks()).containsOnly(Map.entry("vda", target.resolve("web-copy-vda.raw")),
                Map.entry("vdb", target.resolve("web-copy-vdb.qcow2")));
        assertThat(Host.run("qemu-img", "compare", "-f", "raw", "-F", "raw", backup.resolve("vda.raw").toString(),
                copy.disks().get("vda").toString())).contains("Images are identical");
        assertThat(Host.run("qemu-img", "compare", backup.resolve("vdb.qcow2").toString(),
                copy.disks().get("vdb").toString())).contains("Images are identical");
        assertThat(Host.run("qemu-img", "info", copy.disks().get("vdb").toString())).doesNotContain("backing file");
        VirtualMachine defined = hypervisor.lookup("web-copy");
        assertThat(defined.state()).isEqualTo(DomainState.RUNNING);
        assertThat(defined.definitionXml()).doesNotContain(images.toString()).doesNotContain(originalUuid)
                .doesNotContain(MAC).contains("<interface").contains("hdc").doesNotContain("vdc");
        assertThat(text()).contains("disk vdc (", "left out of the copy");
        assertThat(hypervisor.lookup("web").state()).as("the original is untouched").isEqualTo(DomainState.RUNNING);
    }

    @Test
    void theOriginalComesBackInPlaceWithItsUuidAndResumesFromItsRam() throws Exception {
        Path backup = backUp();
        VirtualMachine original = hypervisor.lookup("web");
        String uuid = original.uuid();
        String root = Trees.sha256(images.resolve("web-root.raw"));
        original.forceOff();
        original.undefine();
        Files.delete(images.resolve("web-root.raw"));
        Files.delete(images.resolve("web-data.qcow2"));

        RestoredDomain restored = restore(new RestoreRequest(backup, null, null, true), qemuImg());

        assertThat(restored.name()).isEqualTo("web");
        assertThat(restored.uuid()).isEqualTo(uuid);
        assertThat(restored.started()).isEqualTo(RestoredDomain.RESUMED);
        assertThat(restored.disks().get("vda")).isEqualTo(images.resolve("web-root.raw"));
        assertThat(Trees.sha256(images.resolve("web-root.raw"))).isEqualTo(root);
        VirtualMachine back = hypervisor.lookup("web");
        assertThat(back.state()).isEqualTo(DomainState.RUNNING);
        assertThat(back.isPersistent()).isTrue();
        assertThat(back.definitionXml()).contains(MAC, "vdc");
        assertThat(text()).contains("the definition still names it");
    }

    @Test
    void anExistingDomainOfThatNameOrUuidIsRefusedAndNothingChanges() throws Exception {
        Path backup = backUp();
        Map<String, String> before = Trees.snapshot(images);

        assertThatThrownBy(() -> restore(new RestoreRequest(backup, null, dir.resolve("restored"), false), qemuImg()))
                .isInstanceOfSatisfying(BackupException.class, e -> {
                    assertThat(e.status()).isEqualTo(ExitStatus.RESTORE_TARGET_EXISTS);
                    assertThat(e.getMessage()).contains("has that name", "nothing was changed");
                });

        VirtualMachine original = hypervisor.lookup("web");
        String xml = original.definitionXml();
        original.forceOff();
        original.undefine();
        hypervisor.define(xml.replace("<name>web</name>", "<name>web-renamed</name>"));
        assertThatThrownBy(() -> restore(new RestoreRequest(backup, null, dir.resolve("restored"), false), qemuImg()))
                .isInstanceOfSatisfying(BackupException.class, e -> {
                    assertThat(e.status()).isEqualTo(ExitStatus.RESTORE_TARGET_EXISTS);
                    assertThat(e.getMessage()).contains("'web-renamed'", "has that UUID");
                });
        assertThat(dir.resolve("restored")).doesNotExist();
        assertThat(Trees.snapshot(images)).isEqualTo(before);
    }

    @Test
    void aFailureOnTheSecondDiskTakesAwayEverythingTheRestoreMade() throws Exception {
        Path backup = backUp();
        Path target = dir.resolve("restored/deeper");
        ImageFlattener failsOnVdb = (image, imageFormat, destination, format, cancelled, progress) -> {
            if (image.getFileName().toString().startsWith("vdb")) {
                Files.writeString(destination, "half a disk");
                throw new IOException("No space left on device");
            }
            qemuImg().flatten(image, imageFormat, destination, format, cancelled, progress);
        };

        assertThatThrownBy(() -> restore(new RestoreRequest(backup, "web-copy", target, true), failsOnVdb))
                .isInstanceOfSatisfying(BackupException.class,
                        e -> assertThat(e.getMessage()).contains("No space left on device"));

        assertThat(dir.resolve("restored")).as("the folders it made, with the first disk").doesNotExist();
        assertThatThrownBy(() -> hypervisor.lookup("web-copy")).isInstanceOf(HypervisorException.class);
    }

    @Test
    void aStopDuringTheCopyTakesAwayEverythingTheRestoreMade() throws Exception {
        Path backup = backUp();
        Path target = Files.createDirectories(dir.resolve("restored"));
        DomainRestore[] restore = new DomainRestore[1];
        ImageFlattener stoppedMidway = (image, imageFormat, destination, format, cancelled, progress) -> {
            restore[0].cancel();
            qemuImg().flatten(image, imageFormat, destination, format, cancelled, progress);
        };
        try (BackupLog log = log()) {
            restore[0] = new DomainRestore(hypervisor, log, new BackupVerifier(log, new LinuxFileExtents()),
                    stoppedMidway);
            assertThatThrownBy(() -> restore[0].restore(new RestoreRequest(backup, "web-copy", target, true)))
                    .isInstanceOfSatisfying(BackupException.class,
                            e -> assertThat(e.getMessage()).contains("stopped"));
        }

        assertThat(target).as("an existing folder stays, empty").isEmptyDirectory();
        assertThatThrownBy(() -> hypervisor.lookup("web-copy")).isInstanceOf(HypervisorException.class);
    }

    @Test
    void aDamagedBackupIsRefusedBeforeAnythingIsWritten() throws Exception {
        Path backup = backUp();
        try (RandomAccessFile disk = new RandomAccessFile(backup.resolve("vda.raw").toFile(), "rw")) {
            disk.seek(4096);
            int b = disk.read();
            disk.seek(4096);
            disk.write(b ^ 0xff);
        }

        assertThatThrownBy(() -> restore(new RestoreRequest(backup, "web-copy", dir.resolve("restored"), false),
                qemuImg())).isInstanceOfSatisfying(BackupException.class, e -> {
                    assertThat(e.status()).isEqualTo(ExitStatus.VERIFY_FAILED);
                    assertThat(e.getMessage()).contains("failed verification");
                });
        assertThat(dir.resolve("restored")).doesNotExist();
    }

    @Test
    void aBackupOfManifestFormat1Restores() throws Exception {
        Path backup = backUp();
        toFormat1(backup);

        RestoredDomain copy = restore(new RestoreRequest(backup, "web-old", dir.resolve("restored"), false), qemuImg());

        assertThat(text()).contains("verified: 4 file(s) match the manifest");
        assertThat(Host.run("qemu-img", "compare", backup.resolve("vdb.qcow2").toString(),
                copy.disks().get("vdb").toString())).contains("Images are identical");
        assertThat(hypervisor.lookup("web-old").state()).isEqualTo(DomainState.SHUT_OFF);
    }

    @Test
    void aDiskThatReadsThroughAFileOutsideTheBackupIsRefused() throws Exception {
        Path backup = backUp();
        Path outside = dir.resolve("outside.qcow2");
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", outside.toString(), "16M");
        Host.run("qemu-img", "rebase", "-u", "-F", "qcow2", "-b", outside.toString(),
                backup.resolve("vdb.qcow2").toString());
        toFormat1(backup);  // its checksums now cover the changed header: verification passes

        assertThatThrownBy(() -> restore(new RestoreRequest(backup, "web-copy", dir.resolve("restored"), false),
                qemuImg())).isInstanceOfSatisfying(BackupException.class, e -> {
                    assertThat(e.status()).isEqualTo(ExitStatus.VERIFY_FAILED);
                    assertThat(e.getMessage()).contains("reads through " + outside, "not part of the backup");
                });
        assertThat(dir.resolve("restored")).doesNotExist();
    }

    @Test
    void aRestoreTestBootsAnIsolatedCloneAndRemovesItAndItsLeftovers() throws Exception {
        Path backup = backUp();
        Path scratch = Files.createDirectories(dir.resolve("scratch"));
        Path killedRun = Files.createDirectories(scratch.resolve("web-restore-test-0badc0de"));
        Files.writeString(killedRun.resolve("web-restore-test-0badc0de-vda.raw"), "left");
        Path someoneElses = Files.createDirectories(scratch.resolve("keep-me"));

        RestoreTest.Result result;
        try (BackupLog log = log()) {
            result = new RestoreTest(hypervisor, log, new BackupVerifier(log, new LinuxFileExtents()), qemuImg())
                    .run(new RestoreTestRequest(backup, scratch, Duration.ofSeconds(1), null, null));
        }

        assertThat(result.status()).isEqualTo(ExitStatus.OK);
        assertThat(result.outcome().passed()).isTrue();
        assertThat(result.outcome().proof()).isEqualTo(LifeProof.RUNNING.cliName());
        assertThat(result.outcome().secondsToLife()).isGreaterThanOrEqualTo(1.0);
        assertThat(result.cloneName()).startsWith("web-restore-test-");
        assertThatThrownBy(() -> hypervisor.lookup(result.cloneName())).isInstanceOf(HypervisorException.class);
        try (Stream<Path> left = Files.list(scratch)) {
            assertThat(left.toList()).containsExactly(someoneElses);
        }
        assertThat(text()).contains("left by a restore test that was killed", "restore test passed");
        assertThat(hypervisor.lookup("web").state()).isEqualTo(DomainState.RUNNING);
    }

    /**
     * Rewrites a backup as manifest format 1 had it: a whole-file SHA-256 per file, no chunk
     * indexes, no fields of later versions.
     */
    @SuppressWarnings("unchecked")
    private static void toFormat1(Path backup) throws IOException {
        Path manifestFile = backup.resolve("manifest.json");
        Map<String, Object> manifest = (Map<String, Object>) Json.parse(Files.readString(manifestFile));
        manifest.put("format", 1L);
        for (Object entry : (List<Object>) manifest.get("files")) {
            Map<String, Object> file = (Map<String, Object>) entry;
            Map<String, Object> chunks = (Map<String, Object>) file.remove("chunks");
            Files.delete(backup.resolve((String) chunks.get("file")));
            file.put("sha256", Trees.sha256(backup.resolve((String) file.get("name"))));
            file.remove("backing");
        }
        for (String later : List.of("level", "parent", "checkpoint", "backupChains")) {
            manifest.remove(later);
        }
        Files.writeString(manifestFile, Json.write(manifest));
    }
}
