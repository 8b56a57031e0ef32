package io.jenkins.plugins.virtbackup.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.engine.BackupEngine;
import io.jenkins.plugins.virtbackup.engine.BackupRequest;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.store.Json;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import io.jenkins.plugins.virtbackup.libvirt.LibvirtHypervisor;
import io.jenkins.plugins.virtbackup.qemu.TestGuest.DiskSpec;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.QemuImages;
import io.jenkins.plugins.virtbackup.testing.TestEngines;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Linked clones, the way most VMs are made from templates: the guest's disk is a qcow2 overlay on
 * images other domains share. In every mode the backup must leave those images untouched, put the
 * domain back on its own overlay, and stand alone: it restores with qemu-img once the templates
 * are gone.
 */
class QemuChainIT {
    Path backups;

    @BeforeEach
    void createBackupRoot() throws Exception {
        backups = Files.createDirectories(QemuTestBed.guestWorkDir().resolve("chain-backups-" + System.nanoTime()));
    }

    @AfterEach
    void removeBackupRoot() throws Exception {
        Host.run("rm", "-rf", backups.toString(), backups + "-state");
    }

    @ParameterizedTest(name = "{0}, {1} image(s) below the disk''s own, compressed: {2}")
    @CsvSource({"suspend, 1, false", "shutdown, 1, false", "snapshot-libvirt, 1, false", "live, 1, false",
        "snapshot-libvirt, 2, false", "suspend, 2, false", "snapshot-libvirt, 2, true", "suspend, 1, true"})
    void aLinkedCloneIsBackedUpWholeAndLeftOnItsOwnOverlay(String mode, int templates, boolean compress)
            throws Exception {
        try (TestGuest guest = TestGuest.start("clone", "", new DiskSpec("vda", "qcow2", 64, templates))) {
            long sent = System.nanoTime();
            guest.command("write 0 8 1");  // the clone's own data, beside the templates' (at 10 and 12 MiB)
            guest.serial.waitFor("ANC-WRITER-END", sent, Duration.ofSeconds(60));
            guest.command("sync");
            guest.serial.waitFor("ANC-CMD-OK sync", sent, Duration.ofSeconds(60));
            List<String> blocksBefore = guest.blockList();
            List<String> templateSums = sums(guest.templates("vda"));

            Manifest manifest = backUp(guest, BackupMode.fromCliName(mode).orElseThrow(), compress);

            assertThat(guest.state()).isEqualTo("running");
            assertThat(guest.blockList()).as("on its own overlay again").isEqualTo(blocksBefore);
            assertThat(sums(guest.templates("vda"))).as("the shared templates are untouched").isEqualTo(templateSums);
            assertThat(Host.run("qemu-img", "info", "-U", guest.image("vda").toString()))
                    .contains("backing file: " + guest.templates("vda").get(0));
            assertThat(overlaysLeft()).as("no overlay left in the overlay folder").isEmpty();
            Path backup = backupDir(guest);
            assertThat(sourceChain(backup)).hasSize(templates + 1);
            if (compress) {
                // Each image of the chain (the templates read while the guest runs on an overlay, or
                // after its RAM was saved) a zstd qcow2 over the copy below; the RAM as it was.
                assertThat(manifest.files()).filteredOn(file -> file.target() != null).hasSize(templates + 1)
                        .allSatisfy(file -> {
                            assertThat(file.compression()).isEqualTo("zstd");
                            assertThat(QemuImages.compressionType(backup.resolve(file.name()))).isEqualTo("zstd");
                        });
                assertThat(QemuImages.compressedClusters(backup.resolve("vda.qcow2"))).as("the clone's 8 MiB")
                        .isEqualTo(128);
                assertThat(manifest.files()).filteredOn(file -> file.target() == null)
                        .extracting(file -> file.compression()).containsOnlyNulls();
            }

            // What the guest's disk holds (it wrote nothing since the backup), read once QEMU let go of it.
            guest.virsh("destroy", guest.name);
            Path expected = backups.resolve("expected.raw");
            Host.run("qemu-img", "convert", "-O", "raw", guest.image("vda").toString(), expected.toString());
            GuestPattern.Verdict written = GuestPattern.check(expected, 0, 8);
            assertThat(written.consistent() && written.patterned() == 128).as("the clone's data: " + written).isTrue();
            assertThat(templateLevelsSeen(expected)).as("every template's data shows through").isEqualTo(templates);

            // The templates go away: the backup alone must give back the guest's disk.
            Path moved = guest.dir.resolve("templates-moved");
            Files.move(guest.dir.resolve(TestGuest.TEMPLATES), moved);
            try {
                Path restored = backups.resolve("restored.raw");
                Host.run("qemu-img", "convert", "-O", "raw", backup.resolve("vda.qcow2").toString(), restored.toString());
                assertThat(Trees.sha256(restored)).as("restored from the backup alone").isEqualTo(Trees.sha256(expected));
                if (Files.exists(backup.resolve("memory.state"))) {
                    resumeFromTheBackup(guest, backup);
                }
            } finally {
                Files.move(moved, guest.dir.resolve(TestGuest.TEMPLATES));
            }
            System.out.printf("linked clone, %s, %d template(s): files %s, downtime %s%n", mode, templates,
                    manifest.files().stream().map(f -> f.name()).toList(), manifest.downtime().describe());
        }
    }

    /**
     * As the man page says: the disk converted from the backup into the clone's place, standalone,
     * then its RAM restored; the guest carries on from the backup, without the templates.
     */
    private void resumeFromTheBackup(TestGuest guest, Path backup) throws Exception {
        Files.delete(guest.image("vda"));
        Host.run("qemu-img", "convert", "-O", "qcow2", backup.resolve("vda.qcow2").toString(),
                guest.image("vda").toString());
        long restored = System.nanoTime();
        guest.virsh("restore", backup.resolve("memory.state").toString());
        guest.serial.waitFor("^H \\d+ [0-9.]+$", restored, Duration.ofSeconds(30));
        assertThat(guest.state()).isEqualTo("running");
        assertThat(guest.blockList()).singleElement().asString().endsWith(guest.image("vda").toString());
        guest.virsh("destroy", guest.name);
    }

    // ------------------------------------------------------------------ helpers

    private Manifest backUp(TestGuest guest, BackupMode mode, boolean compress) throws Exception {
        BackupRequest request = new BackupRequest(guest.name, List.of(), mode, backups, Duration.ofSeconds(60), false,
                false).withCompression(compress);
        try (LibvirtHypervisor hypervisor = LibvirtHypervisor.connect(QemuTestBed.URI, report -> { });
             BackupLog log = new BackupLog(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                     true, SyslogSink.NONE)) {
            return TestEngines.of(hypervisor, log, new StateDirectory(Path.of(backups + "-state"))).run(request)
                    .manifest();
        }
    }

    private List<Path> overlaysLeft() throws Exception {
        Path overlays = Path.of(backups + "-state").resolve(BackupEngine.OVERLAY_FOLDER);
        if (!Files.isDirectory(overlays)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(overlays)) {
            return files.toList();
        }
    }

    /** How many template levels' patterns (0x41 at 10 MiB, 0x42 at 12 MiB, ...) a raw disk image shows. */
    private static int templateLevelsSeen(Path raw) throws Exception {
        int seen = 0;
        try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(raw.toFile(), "r")) {
            for (int level = 1; level <= 4; level++) {
                byte[] block = new byte[1 << 20];
                file.seek((8L + 2 * level) << 20);
                file.readFully(block);
                boolean all = true;
                for (byte b : block) {
                    all &= b == 0x40 + level;
                }
                seen += all ? 1 : 0;
            }
        }
        return seen;
    }

    private static List<String> sums(List<Path> images) throws Exception {
        List<String> sums = new ArrayList<>();
        for (Path image : images) {
            sums.add(Trees.sha256(image));
        }
        return sums;
    }

    private Path backupDir(TestGuest guest) throws Exception {
        try (Stream<Path> dirs = Files.list(backups.resolve(guest.name))) {
            return dirs.filter(p -> !p.getFileName().toString().endsWith(".partial")).findFirst().orElseThrow();
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Object> sourceChain(Path backup) throws Exception {
        Map<String, Object> manifest = (Map<String, Object>) Json.parse(Files.readString(backup.resolve("manifest.json")));
        return (List<Object>) ((Map<String, Object>) manifest.get("sourceChains")).get("vda");
    }
}
