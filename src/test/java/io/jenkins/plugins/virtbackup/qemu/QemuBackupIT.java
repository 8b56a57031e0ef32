package io.jenkins.plugins.virtbackup.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.BackupRequest;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.store.Json;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import io.jenkins.plugins.virtbackup.libvirt.LibvirtHypervisor;
import io.jenkins.plugins.virtbackup.qemu.GuestPattern.Verdict;
import io.jenkins.plugins.virtbackup.qemu.TestGuest.DiskSpec;
import io.jenkins.plugins.virtbackup.testing.CliProcess;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.TestEngines;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every mode on real QEMU guests (TCG here, KVM where the host has it), with qcow2 and raw disks,
 * one and two of them. Downtime is measured from the guest's heartbeat as it arrives on the host.
 */
class QemuBackupIT {
    private static final DiskSpec QCOW2 = new DiskSpec("vda", "qcow2", 64);
    private static final DiskSpec RAW = new DiskSpec("vdb", "raw", 32);
    /** The guest writes its pattern over 16 MiB at 0, scattered (stride 977), continuously. */
    private static final String PATTERN = "pattern 0 16 977";

    /** Not a JUnit temp dir: those are 0700, and in live mode QEMU (libvirt-qemu) writes the copies. */
    Path backups;
    final ByteArrayOutputStream console = new ByteArrayOutputStream();

    @BeforeEach
    void createBackupRoot() throws Exception {
        backups = Files.createDirectories(QemuTestBed.guestWorkDir().resolve("backups-" + System.nanoTime()));
    }

    @AfterEach
    void removeBackupRoot() throws Exception {
        Host.run("rm", "-rf", backups.toString(), stateDir().toString());
    }

    /** Locks and journals: beside the backups, so that "nothing written" means nothing. */
    private Path stateDir() {
        return backups.resolveSibling(backups.getFileName() + "-state");
    }

    @Test
    void suspendSavesRamAndTwoDisksAndTheStateRestores() throws Exception {
        try (TestGuest guest = TestGuest.start("suspend", "", QCOW2, RAW)) {
            writeOnePass(guest, "vda");
            long before = System.nanoTime();
            Manifest manifest = backUp(guest, BackupMode.SUSPEND);
            long after = System.nanoTime();

            assertThat(guest.state()).isEqualTo("running");
            guest.serial.waitFor("^H ", after, Duration.ofSeconds(10));
            Path backup = backupDir(guest);
            assertCopiesEqualSources(guest, backup, "vda", "vdb");
            double gap = guest.serial.largestGapMillis(before, after);
            assertThat(manifest.downtimeMillis()).as("downtime in the manifest").isPositive();
            assertThat(gap).as("heartbeat gap vs. manifest downtime " + manifest.downtimeMillis())
                    .isBetween(manifest.downtimeMillis() * 0.3, manifest.downtimeMillis() + 1000.0);

            long lastBeat = guest.serial.lastHeartbeat().sequence();
            guest.virsh("destroy", guest.name);
            long restored = System.nanoTime();
            guest.virsh("restore", backup.resolve("memory.state").toString());
            assertThat(guest.state()).isEqualTo("running");
            // Restored from the backup's RAM: the heartbeat goes on from where it was at backup time.
            // A whole heartbeat line: the one the restore interrupted may have been cut short.
            SerialLog.Line beat = guest.serial.waitFor("^H \\d+ [0-9.]+$", restored, Duration.ofSeconds(10));
            assertThat(Long.parseLong(beat.text().split(" ")[1])).isLessThan(lastBeat);
        }
    }

    @Test
    void shutdownStartsTheGuestAgainFromTheCommandLine() throws Exception {
        try (TestGuest guest = TestGuest.start("shutdown", "", RAW)) {
            writeOnePass(guest, "vdb");
            long before = System.nanoTime();
            CliProcess.Result cli = CliProcess.run(List.of("-c", QemuTestBed.URI, "-b", "shutdown", "-d",
                    backups.toString(), "--state-dir", stateDir().toString(), guest.name), Map.of());

            assertThat(cli.code()).as(cli.text()).isZero();
            assertThat(guest.state()).isEqualTo("running");
            guest.serial.waitFor("ANC-POWEROFF up=", before, Duration.ofSeconds(5));
            guest.serial.waitFor("ANC-READY", before, Duration.ofSeconds(60));
            assertCopiesEqualSources(guest, backupDir(guest), "vdb");
            assertThat(manifestOf(guest)).containsEntry("mode", "shutdown").containsEntry("stateFound", "running");
        }
    }

    @Test
    void aGuestIgnoringShutdownIsLeftRunningWhenTheTimeoutPasses() throws Exception {
        try (TestGuest guest = TestGuest.start("noacpi", "anc.acpi=0", RAW)) {
            long before = System.nanoTime();
            BackupRequest request = new BackupRequest(guest.name, List.of(), BackupMode.SHUTDOWN, backups,
                    Duration.ofSeconds(3), false, false);

            assertThatThrownBy(() -> run(request)).isInstanceOfSatisfying(BackupException.class, e -> {
                assertThat(e.status()).isEqualTo(ExitStatus.BACKUP_FAILED);
                assertThat(e.getMessage()).contains("did not shut down within 3 s");
            });
            assertThat(consoleText()).contains("ignored the shutdown request: it was left running");
            assertThat(guest.state()).isEqualTo("running");
            assertThat(guest.serial.largestGapMillis(before, System.nanoTime())).as("the guest never stopped")
                    .isLessThan(1000);
            try (Stream<Path> left = Files.list(backups)) {
                assertThat(left).as("nothing written").isEmpty();
            }
        }
    }

    @Test
    void aGuestStillShuttingDownWhenTheTimeoutPassesIsStartedAgainOnceOff() throws Exception {
        try (TestGuest guest = TestGuest.start("slowoff", "anc.poweroff_delay=10", RAW)) {
            long before = System.nanoTime();
            BackupRequest request = new BackupRequest(guest.name, List.of(), BackupMode.SHUTDOWN, backups,
                    Duration.ofSeconds(3), false, false);

            assertThatThrownBy(() -> run(request)).isInstanceOfSatisfying(BackupException.class, e -> {
                assertThat(e.status()).isEqualTo(ExitStatus.BACKUP_FAILED);
                assertThat(e.getMessage()).contains("did not shut down within 3 s");
            });

            assertThat(consoleText()).contains("is still shutting down: waiting up to 30 s to start it again");
            assertThat(guest.state()).isEqualTo("running");
            SerialLog.Line off = guest.serial.waitFor("ANC-POWEROFF up=", before, Duration.ofSeconds(5));
            assertThat(Duration.ofNanos(off.arrivedNanos() - before)).as("powered off after the timeout")
                    .isGreaterThan(Duration.ofSeconds(3));
            guest.serial.waitFor("ANC-READY", off.arrivedNanos(), Duration.ofSeconds(120));
            assertNoJournalLeft();
        }
    }

    @Test
    void aSigtermDuringTheShutdownWaitEndsTheRunPromptlyWithTheGuestBackUp() throws Exception {
        try (TestGuest guest = TestGuest.start("sigoff", "anc.poweroff_delay=10", RAW)) {
            long before = System.nanoTime();
            Process process = CliProcess.start(List.of("-c", QemuTestBed.URI, "-v", "-b", "shutdown",
                    "--shutdown-timeout", "300", "-d", backups.toString(), "--state-dir", stateDir().toString(),
                    guest.name), Map.of());
            List<String> output = new ArrayList<>();
            try (BufferedReader out = CliProcess.reader(process)) {
                output.addAll(CliProcess.readUntil(out, "to shut down (timeout 300 s)"));
                guest.serial.waitFor("ANC-POWEROFF-REQ", before, Duration.ofSeconds(30));
                long signalled = System.nanoTime();
                process.toHandle().destroy();  // SIGTERM
                output.addAll(CliProcess.readUntil(out, "still shutting down: waiting up to 30 s to start it again"));
                long waitEnded = System.nanoTime();
                out.lines().forEach(output::add);
                assertThat(process.waitFor(120, TimeUnit.SECONDS)).as(String.join("\n", output)).isTrue();
                Duration stopping = Duration.ofNanos(System.nanoTime() - signalled);

                assertThat(process.exitValue()).as(String.join("\n", output)).isEqualTo(143);
                assertThat(Duration.ofNanos(waitEnded - signalled)).as("the shutdown wait ended by the signal")
                        .isLessThan(Duration.ofSeconds(5));
                SerialLog.Line off = guest.serial.waitFor("ANC-POWEROFF up=", before, Duration.ofSeconds(30));
                assertThat(off.arrivedNanos()).as("the wait ended while the guest was still shutting down")
                        .isGreaterThan(waitEnded);
                assertThat(stopping).as("the guest's 10 s power off and a start, not the 300 s timeout")
                        .isLessThan(Duration.ofSeconds(40));
                assertThat(guest.state()).isEqualTo("running");
                guest.serial.waitFor("ANC-READY", off.arrivedNanos(), Duration.ofSeconds(120));
            }
            assertNoJournalLeft();
            try (Stream<Path> left = Files.walk(backups)) {
                assertThat(left.filter(Files::isRegularFile)).as("the unfinished backup removed").isEmpty();
            }
        }
    }

    @Test
    void aFreezeTheAgentAnswersTooLateIsThawedAfterwards() throws Exception {
        // The stand-in agent takes 8 s to freeze; libvirt gives up after 5 s, the guest freezes anyway.
        try (TestGuest guest = TestGuest.start("latefreeze", "anc.agent=8", QCOW2)) {
            awaitAgentChannel(guest, "connected");
            long before = System.nanoTime();
            Manifest manifest = backUp(guest, BackupMode.LIVE, true);

            assertThat(consoleText()).contains("did not confirm the freeze").contains("guest file systems thawed");
            SerialLog.Line frozen = guest.serial.waitFor("ANC-FSFREEZE-DONE", before, Duration.ofSeconds(5));
            SerialLog.Line thawed = guest.serial.waitFor("ANC-FSTHAW", before, Duration.ofSeconds(5));
            assertThat(thawed.text()).as("thawed what the late freeze froze").contains("frozen=1");
            assertThat(thawed.arrivedNanos()).isGreaterThan(frozen.arrivedNanos());
            assertThat(manifest.files()).extracting(f -> f.name()).containsExactly("domain.xml", "vda.qcow2");
            assertNoJournalLeft();
        }
    }

    @Test
    void anAgentChannelWithoutAnAgentIsNoAgentNotAFrozenGuest() throws Exception {
        try (TestGuest guest = TestGuest.start("noagent", "anc.agent=off", QCOW2)) {
            awaitAgentChannel(guest, "disconnected");
            backUp(guest, BackupMode.LIVE, true);

            assertThat(consoleText()).contains("no guest agent answered (no guest agent is connected)")
                    .doesNotContain("thaw");
            assertNoJournalLeft();
        }
    }

    @Test
    void snapshotLibvirtCopiesAConsistentImageAndMergesTheOverlaysBack() throws Exception {
        try (TestGuest guest = TestGuest.start("snapshot", "", new DiskSpec("vda", "raw", 64),
                new DiskSpec("vdb", "qcow2", 32))) {
            List<String> blocksBefore = guest.blockList();
            guest.command(PATTERN);
            guest.serial.waitFor("ANC-WRITER-PASS", 0, Duration.ofSeconds(60));
            long before = System.nanoTime();
            Manifest manifest = backUp(guest, BackupMode.SNAPSHOT_LIBVIRT);
            long after = System.nanoTime();
            guest.command("stop");

            Path backup = backupDir(guest);
            Verdict verdict = GuestPattern.check(backup.resolve("vda.raw"), 0, 16);
            assertThat(verdict.consistent()).as(verdict.toString()).isTrue();
            assertThat(verdict.patterned()).isGreaterThan(200);
            assertThat(guest.blockList()).as("back on the original images").isEqualTo(blocksBefore);
            try (Stream<Path> files = Files.list(guest.dir)) {
                assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("overlay"));
            }
            assertThat(guest.state()).isEqualTo("running");
            assertThat(Files.size(backup.resolve("memory.state"))).isGreaterThan(1 << 20);
            double gap = guest.serial.largestGapMillis(before, after);
            assertThat(manifest.downtimeMillis()).as("libvirt's measure").isBetween(0L, 1000L);
            assertThat(gap).as("guest-seen downtime, manifest says " + manifest.downtimeMillis()).isLessThan(2000);
            System.out.printf("snapshot-libvirt: manifest downtime %d ms, largest heartbeat gap %.0f ms%n",
                    manifest.downtimeMillis(), gap);

            // The backup restores: its disk copies in place, then its RAM state.
            guest.virsh("destroy", guest.name);
            Files.copy(backup.resolve("vda.raw"), guest.image("vda"), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(backup.resolve("vdb.qcow2"), guest.image("vdb"), StandardCopyOption.REPLACE_EXISTING);
            long restored = System.nanoTime();
            guest.virsh("restore", backup.resolve("memory.state").toString());
            guest.serial.waitFor("^H ", restored, Duration.ofSeconds(10));
            assertThat(guest.state()).isEqualTo("running");
        }
    }

    @Test
    void liveCopiesAreCrashConsistentWhereAPlainCopyIsNot() throws Exception {
        try (TestGuest guest = TestGuest.start("live", "", QCOW2)) {
            guest.command("pattern 0 16 977");
            guest.serial.waitFor("ANC-WRITER-PASS", 0, Duration.ofSeconds(60));

            Path naive = naiveCopyWhileWriting(guest.image("vda"), backups.resolve("naive.qcow2"));
            long before = System.nanoTime();
            Manifest manifest = backUp(guest, BackupMode.LIVE, true);
            long after = System.nanoTime();
            guest.command("stop");

            Path copy = toRaw(backupDir(guest).resolve("vda.qcow2"));
            Verdict live = GuestPattern.check(copy, 0, 16);
            assertThat(live.consistent()).as(live.toString()).isTrue();
            Verdict plain = GuestPattern.check(toRaw(naive), 0, 16);
            assertThat(plain.consistent()).as("negative control: " + plain).isFalse();
            assertThat(guest.blockList()).singleElement().asString().endsWith(guest.image("vda").toString());
            assertThat(consoleText()).contains("no guest agent answered");
            assertThat(manifest.files()).extracting(f -> f.name()).containsExactly("domain.xml", "vda.qcow2");
            System.out.printf("live: manifest downtime %d ms, largest heartbeat gap %.0f ms%n",
                    manifest.downtimeMillis(), guest.serial.largestGapMillis(before, after));
        }
    }

    /**
     * In pull mode QEMU only reads: the copies are written by this process (through qemu-nbd), so a
     * backup folder closed to other users is fine, while a state folder QEMU cannot reach (its
     * scratch files and NBD socket live there) is refused before the domain is touched.
     */
    @Test
    void liveModeWritesIntoAClosedFolderButRefusesAStateFolderQemuCannotReach() throws Exception {
        try (TestGuest guest = TestGuest.start("reach", "", QCOW2)) {
            Path closed = Files.createDirectories(backups.resolve("closed"));
            Files.setPosixFilePermissions(closed, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            BackupRequest request = new BackupRequest(guest.name, List.of(), BackupMode.LIVE, closed.resolve("inner"),
                    Duration.ofSeconds(60), false, false);
            assertThat(run(request).files()).extracting(f -> f.name()).containsExactly("domain.xml", "vda.qcow2");

            Path closedState = closed.resolve("state");
            assertThatThrownBy(() -> run(request, new StateDirectory(closedState)))
                    .isInstanceOfSatisfying(BackupException.class, e -> {
                        assertThat(e.status()).isEqualTo(ExitStatus.BACKUP_FAILED);
                        assertThat(e.getMessage()).contains("QEMU").contains("cannot pass " + closed);
                    });
            assertThat(guest.virsh("domjobinfo", guest.name)).contains("None");
            assertThat(guest.virsh("checkpoint-list", guest.name, "--name").strip().lines())
                    .as("only the first backup's checkpoint").hasSize(1);
        }
    }

    // ------------------------------------------------------------------ helpers

    private Manifest backUp(TestGuest guest, BackupMode mode) throws Exception {
        return backUp(guest, mode, false);
    }

    private Manifest backUp(TestGuest guest, BackupMode mode, boolean quiesce) throws Exception {
        return run(new BackupRequest(guest.name, List.of(), mode, backups, Duration.ofSeconds(60), false, quiesce));
    }

    private Manifest run(BackupRequest request) throws Exception {
        return run(request, new StateDirectory(stateDir()));
    }

    private Manifest run(BackupRequest request, StateDirectory state) throws Exception {
        try (LibvirtHypervisor hypervisor = LibvirtHypervisor.connect(QemuTestBed.URI, report -> { });
             BackupLog log = new BackupLog(new PrintStream(console, true, StandardCharsets.UTF_8), true,
                     SyslogSink.NONE)) {
            return TestEngines.of(hypervisor, log, state).run(request).manifest();
        }
    }

    private void assertNoJournalLeft() throws Exception {
        try (Stream<Path> files = Files.walk(stateDir())) {
            assertThat(files.filter(p -> p.getParent().getFileName().toString().equals("journal")))
                    .as("nothing left to recover").isEmpty();
        }
    }

    /** libvirt reports the agent channel's state in the live XML once the guest opened (or not) its port. */
    private static void awaitAgentChannel(TestGuest guest, String state) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!guest.virsh("dumpxml", guest.name).contains("name='org.qemu.guest_agent.0' state='" + state + "'")) {
            assertThat(System.nanoTime()).as("agent channel " + state).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private String consoleText() {
        return console.toString(StandardCharsets.UTF_8);
    }

    /** One pass of the pattern over the first 8 MiB, so that the disk holds data worth comparing. */
    private static void writeOnePass(TestGuest guest, String target) throws Exception {
        long sent = System.nanoTime();
        guest.command("write 0 8 1");
        guest.serial.waitFor("ANC-WRITER-END", sent, Duration.ofSeconds(60));
        guest.command("sync");
    }

    private void assertCopiesEqualSources(TestGuest guest, Path backup, String... targets) throws Exception {
        for (String target : targets) {
            DiskSpec spec = guest.disks.stream().filter(d -> d.target().equals(target)).findFirst().orElseThrow();
            // The guest wrote nothing since the backup: its images still are what was copied.
            assertThat(Trees.sha256(backup.resolve(target + "." + spec.format())))
                    .as("copy of " + target).isEqualTo(Trees.sha256(guest.image(target)));
        }
    }

    private Path backupDir(TestGuest guest) throws Exception {
        try (Stream<Path> dirs = Files.list(backups.resolve(guest.name))) {
            return dirs.filter(p -> !p.getFileName().toString().endsWith(".partial")).findFirst().orElseThrow();
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> manifestOf(TestGuest guest) throws Exception {
        return (Map<String, Object>) Json.parse(Files.readString(backupDir(guest).resolve("manifest.json")));
    }

    /** Copies a live image block by block, a little slowly, as a naive tool would while the guest writes. */
    private static Path naiveCopyWhileWriting(Path image, Path copy) throws Exception {
        byte[] block = new byte[GuestPattern.BLOCK];
        try (RandomAccessFile in = new RandomAccessFile(image.toFile(), "r");
             RandomAccessFile out = new RandomAccessFile(copy.toFile(), "rw")) {
            long length = in.length();
            for (long at = 0; at < length; at += block.length) {
                in.seek(at);
                int n = in.read(block);
                out.seek(at);
                out.write(block, 0, n);
                Thread.sleep(2);
            }
        }
        return copy;
    }

    private static Path toRaw(Path qcow2) throws Exception {
        Path raw = qcow2.resolveSibling(qcow2.getFileName() + ".raw");
        Host.run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", qcow2.toString(), raw.toString());
        return raw;
    }
}
