package io.jenkins.plugins.virtbackup.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.BackupRequest;
import io.jenkins.plugins.virtbackup.engine.CompletedBackup;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import io.jenkins.plugins.virtbackup.engine.store.Increment;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import io.jenkins.plugins.virtbackup.libvirt.LibvirtHypervisor;
import io.jenkins.plugins.virtbackup.qemu.GuestPattern.Verdict;
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
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code live} mode's levels on real QEMU guests whose disk sits on a qcow2 chain (a linked clone):
 * full, inc and diff backups pulled over NBD while the guest writes, each restored with
 * {@code qemu-img convert} alone; what keeps a chain and what breaks it.
 */
class QemuIncrementalIT {
    /** 64 MiB over two templates (qcow2 on raw): the guest's disk is a linked clone. */
    private static final DiskSpec CLONE = new DiskSpec("vda", "qcow2", 64, 2);

    Path backups;
    final ByteArrayOutputStream console = new ByteArrayOutputStream();

    @BeforeEach
    void createBackupRoot() throws Exception {
        backups = Files.createDirectories(QemuTestBed.guestWorkDir().resolve("backups-" + System.nanoTime()));
    }

    @AfterEach
    void removeBackupRoot() throws Exception {
        Host.run("rm", "-rf", backups.toString(), stateDir().toString(), backups + "-moved");
    }

    private Path stateDir() {
        return backups.resolveSibling(backups.getFileName() + "-state");
    }

    @Test
    void fullIncIncDiffWhileTheGuestWritesEachRestoresWithQemuImgAlone() throws Exception {
        try (TestGuest guest = TestGuest.start("levels", "", CLONE)) {
            guest.command("pattern 16 16 977");
            guest.serial.waitFor("ANC-WRITER-PASS", 0, Duration.ofSeconds(60));

            CompletedBackup full = backUp(guest, BackupLevel.FULL);
            guest.serial.waitFor("ANC-WRITER-PASS", System.nanoTime(), Duration.ofSeconds(60));
            CompletedBackup inc1 = backUp(guest, BackupLevel.INC);
            guest.serial.waitFor("ANC-WRITER-PASS", System.nanoTime(), Duration.ofSeconds(60));
            CompletedBackup inc2 = backUp(guest, BackupLevel.INC);
            guest.serial.waitFor("ANC-WRITER-PASS", System.nanoTime(), Duration.ofSeconds(60));
            CompletedBackup diff = backUp(guest, BackupLevel.DIFF);
            guest.command("stop");

            assertLink(full, BackupLevel.FULL, null);
            assertLink(inc1, BackupLevel.INC, full);
            assertLink(inc2, BackupLevel.INC, inc1);
            assertLink(diff, BackupLevel.DIFF, full);
            assertThat(diff.manifest().increment().disks().get("vda").files())
                    .containsExactly("vda.qcow2", "../" + name(full) + "/vda.qcow2");
            assertThat(inc2.manifest().increment().disks().get("vda").files()).containsExactly("vda.qcow2",
                    "../" + name(inc1) + "/vda.qcow2", "../" + name(full) + "/vda.qcow2");
            assertThat(Host.run("qemu-img", "info", "-U", inc2.directory().resolve("vda.qcow2").toString()))
                    .as("a relative backing file").contains("backing file: ../" + name(inc1) + "/vda.qcow2");

            for (CompletedBackup point : List.of(full, inc1, inc2, diff)) {
                Path raw = restoreWithQemuImg(point.directory().resolve("vda.qcow2"));
                Verdict verdict = GuestPattern.check(raw, 16, 16);
                assertThat(verdict.consistent()).as(name(point) + ": " + verdict).isTrue();
                assertTemplatesShow(raw);
                Files.delete(raw);
            }
            // The tree can be moved: every backing file is relative.
            Path moved = Path.of(backups + "-moved");
            Host.run("mv", backups.toString(), moved.toString());
            Path raw = restoreWithQemuImg(moved.resolve(guest.name).resolve(name(inc2)).resolve("vda.qcow2"));
            assertThat(GuestPattern.check(raw, 16, 16).consistent()).isTrue();
            Host.run("mv", moved.toString(), backups.toString());
            assertThat(guest.virsh("checkpoint-list", guest.name, "--name").strip().lines().toList())
                    .as("one checkpoint per backup of the chain")
                    .containsExactly(checkpoint(full), checkpoint(inc1), checkpoint(inc2), checkpoint(diff));
        }
    }

    /**
     * {@code --compress} in live mode: the full (qemu-img convert) and an inc (qemu-nbd through
     * QEMU's compress filter) over it, taken while the guest writes its pattern, hold every data
     * cluster zstd-compressed (the pattern's 64 KiB blocks repeat a 64-byte record), and each
     * point restores with qemu-img alone to a consistent state of the pattern.
     */
    @Test
    void aCompressedFullAndIncWhileTheGuestWritesRestoreWithQemuImgAlone() throws Exception {
        try (TestGuest guest = TestGuest.start("compress", "", CLONE)) {
            guest.command("pattern 16 16 977");
            guest.serial.waitFor("ANC-WRITER-PASS", 0, Duration.ofSeconds(60));

            CompletedBackup full = backUp(guest, BackupLevel.FULL, true);
            // The pass after the one running at the full's end starts after its checkpoint: all of it is new.
            long passEnded = guest.serial.waitFor("ANC-WRITER-PASS", System.nanoTime(), Duration.ofSeconds(60))
                    .arrivedNanos();
            guest.serial.waitFor("ANC-WRITER-PASS", passEnded + 1, Duration.ofSeconds(60));
            CompletedBackup inc = backUp(guest, BackupLevel.INC, true);
            guest.command("stop");

            assertLink(full, BackupLevel.FULL, null);
            assertLink(inc, BackupLevel.INC, full);
            Path fullImage = full.directory().resolve("vda.qcow2");
            Path incImage = inc.directory().resolve("vda.qcow2");
            for (CompletedBackup point : List.of(full, inc)) {
                assertThat(point.manifest().files()).filteredOn(file -> file.name().equals("vda.qcow2"))
                        .extracting(BackedUpFile::compression).containsExactly("zstd");
                assertThat(QemuImages.compressionType(point.directory().resolve("vda.qcow2"))).isEqualTo("zstd");
            }
            // The guest's 16 MiB (256 clusters) and the templates' 2 MiB, each cluster compressed.
            assertThat(QemuImages.compressedClusters(fullImage)).isEqualTo(QemuImages.allocatedClusters(fullImage))
                    .isEqualTo(288);
            assertThat(Files.size(fullImage)).as("18 MiB of repeated records, compressed").isLessThan(4L << 20);
            // A whole pass of the writer after the full's checkpoint: every block of its region changed.
            assertThat(QemuImages.compressedClusters(incImage)).isEqualTo(QemuImages.allocatedClusters(incImage))
                    .isEqualTo(256);
            assertThat(QemuImages.backingFile(incImage)).isEqualTo("../" + name(full) + "/vda.qcow2");

            for (CompletedBackup point : List.of(full, inc)) {
                Path raw = restoreWithQemuImg(point.directory().resolve("vda.qcow2"));
                Verdict verdict = GuestPattern.check(raw, 16, 16);
                assertThat(verdict.consistent()).as(name(point) + ": " + verdict).isTrue();
                assertTemplatesShow(raw);
                Files.delete(raw);
            }
        }
    }

    @Test
    void anIncHoldsWhatChangedAndNoMore() throws Exception {
        try (TestGuest guest = TestGuest.start("inc-size", "", CLONE)) {
            guest.writeOnce("write 0 16 1");
            CompletedBackup full = backUp(guest, BackupLevel.FULL);
            guest.writeOnce("write 32 2 1");
            CompletedBackup inc = backUp(guest, BackupLevel.INC);

            long incData = dataInTopLayer(inc.directory().resolve("vda.qcow2"));
            assertThat(incData).as("the 2 MiB the guest wrote, no more").isEqualTo(2L << 20);
            assertThat(dataInTopLayer(full.directory().resolve("vda.qcow2"))).as("what the guest wrote, no more")
                .isEqualTo(16L << 20);
            assertRestoresToTheDiskAsItIs(guest, inc);
        }
    }

    @Test
    void aCleanPowerCycleKeepsTheChain() throws Exception {
        try (TestGuest guest = TestGuest.start("cycle", "", CLONE)) {
            guest.writeOnce("write 0 8 1");
            backUp(guest, BackupLevel.FULL);
            guest.powerOff();
            startAgain(guest);
            guest.writeOnce("write 16 2 1");

            CompletedBackup inc = backUp(guest, BackupLevel.AUTO);

            assertThat(inc.manifest().increment().level()).isEqualTo(BackupLevel.INC);
            assertThat(consoleText()).doesNotContain("taking a full backup");
            assertRestoresToTheDiskAsItIs(guest, inc);
        }
    }

    @Test
    void aKilledQemuBreaksTheChainAutoTakesAFullAndAnExplicitIncFails() throws Exception {
        try (TestGuest guest = TestGuest.start("killed", "", CLONE)) {
            guest.writeOnce("write 0 8 1");
            backUp(guest, BackupLevel.FULL);
            guest.writeOnce("write 16 2 1");
            Host.run("pkill", "-KILL", "-f", "guest=" + guest.name + ",");
            guest.awaitState("shut off");
            startAgain(guest);

            assertThatThrownBy(() -> backUp(guest, BackupLevel.INC)).isInstanceOfSatisfying(BackupException.class,
                    e -> {
                        assertThat(e.status()).isEqualTo(ExitStatus.CHAIN_BROKEN);
                        assertThat(e.getMessage()).contains("inconsistent").contains("nothing was written");
                    });
            assertThat(completeBackups(guest)).as("the failed inc left nothing").hasSize(1);
            CompletedBackup auto = backUp(guest, BackupLevel.AUTO);
            assertThat(auto.manifest().increment().level()).isEqualTo(BackupLevel.FULL);
            assertThat(consoleText()).contains("level auto: taking a full backup").contains("inconsistent");
            assertThat(guest.virsh("checkpoint-list", guest.name, "--name").strip())
                    .as("the full deleted the broken chain's checkpoint").isEqualTo(checkpoint(auto));
            assertRestoresToTheDiskAsItIs(guest, auto);
        }
    }

    /**
     * libvirt's destroy asks QEMU to quit (SIGTERM) before it kills it: QEMU then stores its bitmaps
     * as cleanly as at a power off, and the chain holds. What matters is that the inc is right.
     */
    @Test
    void afterVirshDestroyAndStartTheIncIsStillExact() throws Exception {
        try (TestGuest guest = TestGuest.start("destroy", "", CLONE)) {
            guest.writeOnce("write 0 8 1");
            backUp(guest, BackupLevel.FULL);
            guest.writeOnce("write 16 2 1");
            guest.virsh("destroy", guest.name);
            startAgain(guest);
            guest.writeOnce("write 24 1 1");

            CompletedBackup next = backUp(guest, BackupLevel.AUTO);

            System.out.println("after destroy + start, auto took level " + next.manifest().increment().level());
            assertRestoresToTheDiskAsItIs(guest, next);
        }
    }

    @Test
    void addingADiskBreaksTheChain() throws Exception {
        try (TestGuest guest = TestGuest.start("add-disk", "", CLONE)) {
            guest.writeOnce("write 0 8 1");
            backUp(guest, BackupLevel.FULL);
            Path extra = guest.dir.resolve("vdb.qcow2");
            Host.run("qemu-img", "create", "-q", "-f", "qcow2", extra.toString(), "16M");
            guest.virsh("attach-disk", guest.name, extra.toString(), "vdb", "--subdriver", "qcow2", "--live");

            assertThatThrownBy(() -> backUp(guest, BackupLevel.INC)).isInstanceOfSatisfying(BackupException.class,
                    e -> assertThat(e.status()).isEqualTo(ExitStatus.CHAIN_BROKEN));
            CompletedBackup auto = backUp(guest, BackupLevel.AUTO);

            assertThat(auto.manifest().increment().level()).isEqualTo(BackupLevel.FULL);
            assertThat(consoleText()).contains("disk vdb was not in backup");
            assertThat(auto.manifest().files()).extracting(f -> f.name())
                    .containsExactly("domain.xml", "vda.qcow2", "vdb.qcow2");
        }
    }

    /**
     * libvirt keeps bitmaps in qcow2 images only: a raw disk is exported whole by every backup, and
     * left out of the checkpoint. The guest writes to the raw disk here; its qcow2 disk stays still.
     */
    @Test
    void aRawDiskBesideAQcow2OneIsCopiedWholeIntoEveryInc() throws Exception {
        try (TestGuest guest = TestGuest.start("raw", "anc.disk=/dev/vdb", CLONE, new DiskSpec("vdb", "raw", 32))) {
            guest.writeOnce("write 0 8 1");
            backUp(guest, BackupLevel.FULL);
            guest.writeOnce("write 16 2 1");

            CompletedBackup inc = backUp(guest, BackupLevel.INC);

            assertThat(inc.manifest().increment().disks().get("vdb").files()).containsExactly("vdb.qcow2");
            assertThat(inc.manifest().increment().disks().get("vda").files()).hasSize(2);
            assertThat(Host.run("qemu-img", "info", "-U", inc.directory().resolve("vdb.qcow2").toString()))
                    .doesNotContain("backing file");
            assertThat(dataInTopLayer(inc.directory().resolve("vdb.qcow2"))).as("all of vdb's data")
                    .isEqualTo(10L << 20);
            assertThat(dataInTopLayer(inc.directory().resolve("vda.qcow2"))).as("vda did not change").isZero();
            assertThat(guest.virsh("checkpoint-dumpxml", guest.name, checkpoint(inc), "--no-domain"))
                    .contains("<disk name='vdb' checkpoint='no'/>");
            assertRestoresToTheDiskAsItIs(guest, inc);
            Path vdb = restoreWithQemuImg(inc.directory().resolve("vdb.qcow2"));
            assertThat(Trees.sha256(vdb)).isEqualTo(Trees.sha256(guest.image("vdb")));
        }
    }

    // ------------------------------------------------------------------ helpers

    private CompletedBackup backUp(TestGuest guest, BackupLevel level) throws Exception {
        return backUp(guest, level, false);
    }

    private CompletedBackup backUp(TestGuest guest, BackupLevel level, boolean compress) throws Exception {
        BackupRequest request = new BackupRequest(guest.name, List.of(), BackupMode.LIVE, backups,
                Duration.ofSeconds(60), false, false, null, false, level, compress);
        try (LibvirtHypervisor hypervisor = LibvirtHypervisor.connect(QemuTestBed.URI, report -> { });
             BackupLog log = new BackupLog(new PrintStream(console, true, StandardCharsets.UTF_8), true,
                     SyslogSink.NONE)) {
            CompletedBackup backup = TestEngines.of(hypervisor, log, new StateDirectory(stateDir())).run(request);
            // Backups of one domain are named by the second they start in.
            Thread.sleep(1100);
            return backup;
        }
    }

    private static void assertLink(CompletedBackup backup, BackupLevel level, CompletedBackup parent) {
        Increment increment = backup.manifest().increment();
        assertThat(increment.level()).isEqualTo(level);
        assertThat(increment.parent()).isEqualTo(parent == null ? null : name(parent));
        assertThat(increment.checkpoint().name()).isEqualTo(checkpoint(backup));
        assertThat(increment.checkpoint().xml()).contains("<name>" + checkpoint(backup) + "</name>");
        assertThat(backup.manifest().files()).extracting(f -> f.name()).containsExactly("domain.xml", "vda.qcow2");
    }

    private static String name(CompletedBackup backup) {
        return backup.directory().getFileName().toString();
    }

    private static String checkpoint(CompletedBackup backup) {
        return "virt-backup-" + name(backup);
    }

    /** Stock tools only: qemu-img follows the relative backing files down to the full backup. */
    private static Path restoreWithQemuImg(Path qcow2) throws Exception {
        Path raw = qcow2.resolveSibling("restored.raw");
        Host.run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", qcow2.toString(), raw.toString());
        return raw;
    }

    /**
     * The guest wrote nothing since the backup. QEMU keeps some of a qcow2's metadata in its caches
     * until it closes the image, so the guest is powered off first: then the image file is the disk
     * as the guest saw it, and the restore must equal it byte for byte.
     */
    private static void assertRestoresToTheDiskAsItIs(TestGuest guest, CompletedBackup backup) throws Exception {
        guest.powerOff();
        Path restored = restoreWithQemuImg(backup.directory().resolve("vda.qcow2"));
        Path now = backup.directory().resolve("disk-now.raw");
        Host.run("qemu-img", "convert", "-U", "-f", "qcow2", "-O", "raw", guest.image("vda").toString(), now.toString());
        assertThat(Trees.sha256(restored)).as("restored " + name(backup)).isEqualTo(Trees.sha256(now));
        Files.delete(restored);
        Files.delete(now);
    }

    /** Each template wrote 1 MiB of 0x40 + level at 8 + 2 * level MiB, below the guest's 16 MiB pattern. */
    private static void assertTemplatesShow(Path raw) throws Exception {
        try (var in = new java.io.RandomAccessFile(raw.toFile(), "r")) {
            for (int level = 1; level <= 2; level++) {
                in.seek((8L + 2 * level) << 20);
                assertThat(in.readByte()).as("template level " + level).isEqualTo((byte) (0x40 + level));
            }
        }
    }

    /** Bytes of data the qcow2 itself holds, its backing files left out. */
    private static long dataInTopLayer(Path qcow2) throws Exception {
        String map = Host.run("qemu-img", "map", "--output=json", "-f", "qcow2", qcow2.toString());
        long total = 0;
        for (String line : map.lines().toList()) {
            if (line.contains("\"depth\": 0") && line.contains("\"data\": true")) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"length\": (\\d+)").matcher(line);
                if (m.find()) {
                    total += Long.parseLong(m.group(1));
                }
            }
        }
        return total;
    }



    private static void startAgain(TestGuest guest) throws Exception {
        long started = System.nanoTime();
        guest.virsh("start", guest.name);
        guest.serial.waitFor("ANC-READY", started, Duration.ofSeconds(120));
    }


    private List<Path> completeBackups(TestGuest guest) throws Exception {
        try (Stream<Path> dirs = Files.list(backups.resolve(guest.name))) {
            return dirs.filter(p -> Files.exists(p.resolve(Manifest.FILE_NAME))).toList();
        }
    }

    private String consoleText() {
        return console.toString(StandardCharsets.UTF_8);
    }
}
