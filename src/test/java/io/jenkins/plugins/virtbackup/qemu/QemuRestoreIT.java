package io.jenkins.plugins.virtbackup.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreResult;
import io.jenkins.plugins.virtbackup.engine.store.Increment;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import io.jenkins.plugins.virtbackup.qemu.GuestPattern.Verdict;
import io.jenkins.plugins.virtbackup.qemu.TestGuest.DiskSpec;
import io.jenkins.plugins.virtbackup.qemu.TestGuest.Extras;
import io.jenkins.plugins.virtbackup.testing.CliProcess;
import io.jenkins.plugins.virtbackup.testing.CliProcess.Result;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code virt-backup restore} and {@code restore --test} on real QEMU guests, through the packaged
 * command line as a real process. Every guest's disk is a linked clone (a qcow2 image over a raw
 * template), so every restore must read the template's data out of the backup into one image that
 * stands alone. Prints each test's time.
 */
class QemuRestoreIT {
    /** 64 MiB, a qcow2 image over a raw template: the template's 1 MiB of 0x41 sits at 10 MiB. */
    private static final DiskSpec CLONE = new DiskSpec("vda", "qcow2", 64, 1);
    /** A network interface, so that a copy's new MAC address and a clone's lack of network can be seen. */
    private static final String NIC = "    <interface type='user'><model type='virtio'/></interface>\n";
    /** The test guest's boot loader stand-in boots a disk only when it starts with these bytes. */
    private static final String BOOT_SIGNATURE = "ANC-BOOT";
    /** anc.bootcheck=1: no signature, no boot; anc.agent=0: an agent channel and an agent answering at once. */
    private static final String BOOTCHECK_AND_AGENT = "anc.bootcheck=1 anc.agent=0";
    private static final Pattern MAC = Pattern.compile("<mac address='([0-9a-f:]+)'/>");
    private static final Pattern WHOLE_HEARTBEAT = Pattern.compile("^H (\\d+) [0-9.]+$");
    private static final Map<String, Double> SECONDS = new TreeMap<>();

    /** Backups, state, restored disks and result files of one test; not a JUnit temp dir, QEMU must enter it. */
    private Path work;
    /** Domains a test's restores defined under new names: removed after the test, whatever happened. */
    private final List<String> restoredDomains = new ArrayList<>();
    private long testStarted;

    @BeforeEach
    void createWorkFolder() throws Exception {
        work = Files.createDirectories(QemuTestBed.guestWorkDir().resolve("rt-"
                + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt())));
        testStarted = System.nanoTime();
    }

    @AfterEach
    void removeWhatTheTestMade(TestInfo test) throws Exception {
        SECONDS.put(test.getTestMethod().orElseThrow().getName() + " " + test.getDisplayName(),
                (System.nanoTime() - testStarted) / 1e9);
        for (String domain : restoredDomains) {
            removeDomain(domain);
        }
        Host.run("rm", "-rf", work.toString());
    }

    @AfterAll
    static void printTimes() {
        System.out.println("\n| QemuRestoreIT test | seconds |\n|---|---|");
        SECONDS.forEach((test, seconds) -> System.out.printf("| %s | %.0f |%n", test, seconds));
    }

    // ------------------------------------------------------------------ restore

    /**
     * A snapshot-libvirt backup's RAM names the temporary overlays the guest ran on while it was
     * saved, which are gone: the restore points the saved definition at the restored images.
     */
    @ParameterizedTest
    @ValueSource(strings = {"suspend", "snapshot-libvirt"})
    void aBackupWithRamRestoredAfterADisasterResumesTheGuestWhereItWas(String mode) throws Exception {
        try (TestGuest guest = TestGuest.start("resume", "", new Extras(NIC, g -> { }), CLONE)) {
            guest.writeOnce("write 0 8 1");
            String uuid = guest.virsh("domuuid", guest.name).strip();
            long beatBeforeBackup = guest.serial.lastHeartbeat().sequence();
            Path backup = backUp(guest, "-b", mode, "--overlay-dir", work.resolve("overlays").toString());
            guest.serial.waitFor("^H ", System.nanoTime(), Duration.ofSeconds(10));
            long lastSequence = guest.serial.lastHeartbeat().sequence();

            // The disaster: the domain, its image and the template under it are gone.
            guest.virsh("destroy", guest.name);
            guest.virsh("undefine", guest.name);
            Files.delete(guest.image("vda"));
            Host.run("rm", "-r", guest.dir.resolve(TestGuest.TEMPLATES).toString());

            long restoring = System.nanoTime();
            Path resultFile = work.resolve("result.json");
            Result restore = restore("--start", "--result-file", resultFile.toString(), backup.toString());

            assertThat(restore.code()).as(restore.text()).isZero();
            RestoreResult result = RestoreResult.parse(Files.readString(resultFile));
            assertThat(result.status()).isZero();
            assertThat(result.domain()).isEqualTo(guest.name);
            assertThat(result.uuid()).isEqualTo(uuid);
            assertThat(result.started()).isEqualTo("resumed");
            assertThat(result.disks()).containsExactlyEntriesOf(Map.of("vda", guest.image("vda").toString()));
            assertThat(guest.virsh("domuuid", guest.name).strip()).isEqualTo(uuid);
            assertThat(guest.state()).isEqualTo("running");
            // The same serial log (append='on'): the heartbeat goes on from where the backup saved
            // it, with no boot in between (a boot prints ANC-INIT and counts from 0 again).
            SerialLog.Line beat = guest.serial.waitFor(WHOLE_HEARTBEAT.pattern(), restoring, Duration.ofSeconds(30));
            long sequence = heartbeatSequence(beat);
            assertThat(sequence).as("the heartbeat after the restore continues the one saved")
                    .isBetween(beatBeforeBackup, lastSequence - 1);
            assertThatThrownBy(() -> guest.serial.waitFor("ANC-INIT", restoring, Duration.ZERO))
                    .as("no boot after the restore").isInstanceOf(TimeoutException.class);
            assertStandsAlone(guest.image("vda"));
            assertIdentical(backup.resolve("vda.qcow2"), guest.image("vda"));
        }
    }

    @Test
    void aCopyUnderANewNameBootsBesideTheOriginalOnItsOwnFiles() throws Exception {
        try (TestGuest guest = TestGuest.start("copy", "", new Extras(NIC, g -> { }), CLONE)) {
            guest.writeOnce("write 0 8 1");
            Path backup = backUp(guest, "-b", "suspend");
            String copy = restoredName(guest, "copy");
            Path diskDir = work.resolve("copy-disks");
            Path resultFile = work.resolve("result.json");

            Result restore = restore("--name", copy, "--disk-dir", diskDir.toString(), "--start",
                    "--result-file", resultFile.toString(), backup.toString());

            assertThat(restore.code()).as(restore.text()).isZero();
            assertThat(restore.text()).contains("the backup's RAM is not used: a copy under a new name boots instead");
            RestoreResult result = RestoreResult.parse(Files.readString(resultFile));
            Path image = diskDir.resolve(copy + "-vda.qcow2");
            assertThat(result.domain()).isEqualTo(copy);
            assertThat(result.started()).isEqualTo("booted");
            assertThat(result.disks()).containsExactlyEntriesOf(Map.of("vda", image.toString()));
            String originalUuid = guest.virsh("domuuid", guest.name).strip();
            assertThat(result.uuid()).isNotEqualTo(originalUuid)
                    .isEqualTo(guest.virsh("domuuid", copy).strip());
            String copyXml = guest.virsh("dumpxml", copy);
            assertThat(macOf(copyXml)).as("a new MAC address").isNotEqualTo(macOf(guest.virsh("dumpxml", guest.name)));
            assertThat(copyXml).as("nothing of the original's folder, nothing of the backup")
                    .doesNotContain(guest.dir + "/").doesNotContain(work.resolve("backups").toString())
                    .contains("<source file='" + image + "'");
            assertStandsAlone(image);
            // qemu-img reads the backup's vda.qcow2 through the template copied beside it.
            assertIdentical(backup.resolve("vda.qcow2"), image);

            try (SerialLog console = new SerialLog(diskDir.resolve("serial0.log"))) {
                console.waitFor("ANC-READY", 0, Duration.ofSeconds(120));
            }
            assertThat(guest.virsh("domstate", copy).strip()).isEqualTo("running");
            assertThat(guest.state()).as("the original").isEqualTo("running");
            guest.serial.waitFor("^H ", System.nanoTime(), Duration.ofSeconds(10));
            assertThat(guest.blockList()).singleElement().asString().endsWith(guest.image("vda").toString());
        }
    }

    @Test
    void aRestoreOverAnExistingDomainOrFileIsRefusedWithNothingChanged() throws Exception {
        try (TestGuest guest = TestGuest.start("refuse", "", CLONE)) {
            guest.writeOnce("write 0 8 1");
            Path backup = backUp(guest, "-b", "suspend");
            Map<String, String> folderBefore = folderState(guest.dir);
            String definitionBefore = guest.virsh("dumpxml", "--inactive", guest.name);
            Path resultFile = work.resolve("result.json");

            Result restore = restore("--start", "--result-file", resultFile.toString(), backup.toString());

            assertThat(restore.code()).as(restore.text()).isEqualTo(9);
            assertThat(restore.text()).contains("cannot restore as '" + guest.name + "'")
                    .contains("a restore never replaces a domain");
            assertThat(RestoreResult.parse(Files.readString(resultFile)).status()).isEqualTo(9);
            assertThat(folderState(guest.dir)).as("the original's folder: its image, templates, and no new file")
                    .isEqualTo(folderBefore);
            assertThat(guest.virsh("dumpxml", "--inactive", guest.name)).isEqualTo(definitionBefore);
            assertThat(guest.state()).isEqualTo("running");

            // A copy whose disk would land on an existing file: refused before anything is made.
            String copy = restoredName(guest, "copy");
            Path diskDir = Files.createDirectories(work.resolve("copy-disks"));
            Files.writeString(diskDir.resolve(copy + "-vda.qcow2"), "someone else's file");
            Map<String, String> diskDirBefore = folderState(diskDir);

            Result clash = restore("--name", copy, "--disk-dir", diskDir.toString(), "--start", backup.toString());

            assertThat(clash.code()).as(clash.text()).isEqualTo(9);
            assertThat(clash.text()).contains("exists already; a restore never overwrites");
            assertThat(folderState(diskDir)).isEqualTo(diskDirBefore);
            assertThat(definedDomains()).doesNotContain(copy);
        }
    }

    @Test
    void anIncRestoresToTheDiskAsTheGuestHadItThenInOneStandaloneImage() throws Exception {
        try (TestGuest guest = TestGuest.start("inc", "", CLONE)) {
            Path full = backUp(guest, "-b", "live", "-l", "full");
            // One pass of the pattern over 16 MiB at 16 MiB, scattered: only the inc holds it.
            guest.writeOnce("write 16 16 977");
            Path inc = backUp(guest, "-b", "live", "-l", "inc");
            Increment increment = Manifest.read(inc).increment();
            assertThat(increment.level()).isEqualTo(BackupLevel.INC);
            assertThat(increment.parent()).isEqualTo(full.getFileName().toString());
            guest.powerOff();
            String copy = restoredName(guest, "inc");
            Path diskDir = work.resolve("inc-disks");

            Result restore = restore("--name", copy, "--disk-dir", diskDir.toString(), inc.toString());

            assertThat(restore.code()).as(restore.text()).isZero();
            assertThat(guest.virsh("domstate", copy).strip()).as("defined, not started").isEqualTo("shut off");
            Path image = diskDir.resolve(copy + "-vda.qcow2");
            assertStandsAlone(image);
            Path raw = toRaw(image, work.resolve("restored.raw"));
            Verdict verdict = GuestPattern.check(raw, 16, 16);
            assertThat(verdict.consistent()).as(verdict.toString()).isTrue();
            assertThat(verdict.patterned()).as("every block of the pass").isEqualTo(256);
            assertThat(byteAt(raw, 10L << 20)).as("the template's data").isEqualTo((byte) 0x41);
            // The guest wrote nothing after the inc and is off: its disk is what the inc saw.
            assertIdentical(guest.image("vda"), image);
            assertIdentical(inc.resolve("vda.qcow2"), image);
            Verdict fullAlone = GuestPattern.check(toRaw(full.resolve("vda.qcow2"), work.resolve("full.raw")), 16, 16);
            assertThat(fullAlone.patterned()).as("negative control: the full has no pattern").isZero();
        }
    }

    // ------------------------------------------------------------------ restore --test

    @Test
    void theRestoreTestPassesOnAGoodBackupByTheAgentsAnswerAndLeavesNothing() throws Exception {
        try (TestGuest guest = bootableGuest("rtpass")) {
            Path backup = backUp(guest, "-b", "live");
            // Long: the guest's second serial port is a unix socket, and a socket path may have 108 bytes
            // at most; the clone's port must reach nothing on the host, so no path can be too long.
            Path scratch = work.resolve("a-scratch-folder-with-a-name-long-enough-that-no-socket-path-fits-in-it");
            Path resultFile = work.resolve("result.json");

            Result test = restore("--test", "--disk-dir", scratch.toString(), "--result-file", resultFile.toString(),
                    backup.toString());

            assertThat(test.code()).as(test.text()).isZero();
            RestoreResult result = RestoreResult.parse(Files.readString(resultFile));
            assertThat(result.domain()).startsWith(guest.name + "-restore-test-");
            assertThat(result.test().passed()).isTrue();
            assertThat(result.test().proof()).isEqualTo("agent");
            assertThat(result.test().secondsToLife()).isPositive();
            assertThat(result.test().detail()).contains("guest-ping");
            System.out.println("restore test of a good backup: life after " + result.test().secondsToLife() + " s");
            assertNothingLeft(guest, scratch);
            assertThat(guest.state()).as("the original").isEqualTo("running");
        }
    }

    @Test
    void theRestoreTestFailsOnABackupDamagedAfterwards() throws Exception {
        try (TestGuest guest = bootableGuest("rtdamaged")) {
            Path backup = backUp(guest, "-b", "live");
            flipByteOfGuestOffsetZero(backup.resolve("vda.qcow2"));
            Path scratch = work.resolve("s");
            Path resultFile = work.resolve("result.json");

            Result test = restore("--test", "--disk-dir", scratch.toString(), "--result-file", resultFile.toString(),
                    backup.toString());

            assertThat(test.code()).as(test.text()).isEqualTo(7);
            RestoreResult result = RestoreResult.parse(Files.readString(resultFile));
            assertThat(result.status()).isEqualTo(7);
            assertThat(result.test().passed()).isFalse();
            assertThat(result.test().detail()).contains("failed verification");
            assertNothingLeft(guest, scratch);
        }
    }

    @Test
    void theRestoreTestFailsWhenTheCloneStopsAtBoot() throws Exception {
        try (TestGuest guest = bootableGuest("rtnoboot")) {
            guest.powerOff();
            // The boot loader is gone: a backup that verifies, of a disk that no longer boots.
            Host.run("qemu-io", "-f", "qcow2", "-c", "write -z 0 512", guest.image("vda").toString());
            Path backup = backUp(guest, "-b", "suspend");
            Path scratch = work.resolve("s");
            Path resultFile = work.resolve("result.json");

            Result test = restore("--test", "--disk-dir", scratch.toString(), "--result-file", resultFile.toString(),
                    backup.toString());

            assertThat(test.code()).as(test.text()).isEqualTo(10);
            RestoreResult result = RestoreResult.parse(Files.readString(resultFile));
            assertThat(result.test().passed()).isFalse();
            assertThat(result.test().secondsToLife()).isNull();
            // The console's last line is the kernel powering off, right after the guest's ANC-NOBOOT.
            assertThat(result.test().detail()).contains("the clone stopped after").contains("without showing life");
            assertNothingLeft(guest, scratch);
        }
    }

    @Test
    void aKilledRestoreTestLeavesNoCloneRunningAndTheNextOneRemovesItsFolder() throws Exception {
        try (TestGuest guest = bootableGuest("rtkill")) {
            Path backup = backUp(guest, "-b", "live");
            Path scratch = work.resolve("s");
            Process process = launch(restoreArgs("--test", "-v", "--disk-dir", scratch.toString(), "--proof", "running",
                    "--timeout", "600", backup.toString()));
            String clone;
            try (BufferedReader out = CliProcess.reader(process)) {
                CliProcess.readUntil(out, "booting the clone");
                clone = awaitClone(guest);
                assertThat(guest.virsh("dumpxml", clone)).as("the clone is cut off from the network")
                        .doesNotContain("<interface").doesNotContain(guest.dir + "/");
                try (SerialLog console = new SerialLog(scratch.resolve(clone).resolve("console.log"))) {
                    console.waitFor("ANC-READY", 0, Duration.ofSeconds(120));
                }
                process.toHandle().destroyForcibly();
                long killed = System.nanoTime();
                assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
                while (definedDomains().contains(clone)) {
                    assertThat(Duration.ofNanos(System.nanoTime() - killed)).as("autodestroy of " + clone)
                            .isLessThan(Duration.ofSeconds(10));
                    Thread.sleep(100);
                }
                System.out.printf("clone gone %.1f s after the SIGKILL%n", (System.nanoTime() - killed) / 1e9);
            }
            assertThat(scratch.resolve(clone)).as("the killed test's folder").isDirectory();

            Result next = restore("--test", "--disk-dir", scratch.toString(), backup.toString());

            assertThat(next.code()).as(next.text()).isZero();
            assertThat(next.text()).contains("removed " + scratch.resolve(clone)
                    + ", left by a restore test that was killed");
            assertNothingLeft(guest, scratch);
        }
    }

    // ------------------------------------------------------------------ guests

    /** A guest that boots only from a disk carrying the signature (written before its first start), with an agent. */
    private static TestGuest bootableGuest(String purpose) throws Exception {
        return TestGuest.start(purpose, BOOTCHECK_AND_AGENT, new Extras(NIC, QemuRestoreIT::writeBootSignature), CLONE);
    }

    private static void writeBootSignature(TestGuest guest) throws Exception {
        Path sector = guest.dir.resolve("boot-sector");
        byte[] bytes = Arrays.copyOf(BOOT_SIGNATURE.getBytes(StandardCharsets.US_ASCII), 512);
        Files.write(sector, bytes);
        Host.run("qemu-io", "-f", "qcow2", "-c", "write -s " + sector + " 0 512", guest.image("vda").toString());
    }



    /** A name for a restored copy, unique with the guest's, removed after the test. */
    private String restoredName(TestGuest guest, String suffix) {
        String name = guest.name + "-" + suffix;
        restoredDomains.add(name);
        return name;
    }

    /** Waits for the guest's restore test clone to be listed; its name. */
    private static String awaitClone(TestGuest guest) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            List<String> clones = clonesOf(guest);
            if (!clones.isEmpty()) {
                return clones.get(0);
            }
            assertThat(System.nanoTime()).as("a restore test clone of " + guest.name).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static List<String> clonesOf(TestGuest guest) throws IOException {
        return definedDomains().stream().filter(name -> name.startsWith(guest.name + "-restore-test-")).toList();
    }

    /** Every domain libvirt knows, running or defined. */
    private static List<String> definedDomains() throws IOException {
        return Host.run("virsh", "-c", QemuTestBed.URI, "list", "--all", "--name").lines().map(String::strip)
                .filter(line -> !line.isEmpty()).toList();
    }

    private static void removeDomain(String name) throws IOException {
        if (!definedDomains().contains(name)) {
            return;
        }
        try {
            Host.run("virsh", "-c", QemuTestBed.URI, "destroy", name);
        } catch (IOException notRunning) {
            // Shut off already.
        }
        Host.run("virsh", "-c", QemuTestBed.URI, "undefine", name);
    }

    // ------------------------------------------------------------------ what the tests check

    /** No clone of the guest left, running or defined, and nothing left in the scratch folder. */
    private static void assertNothingLeft(TestGuest guest, Path scratch) throws Exception {
        assertThat(clonesOf(guest)).as("restore test clones").isEmpty();
        if (Files.exists(scratch)) {
            try (Stream<Path> left = Files.list(scratch)) {
                assertThat(left).as("the scratch folder").isEmpty();
            }
        }
    }

    private static void assertStandsAlone(Path image) throws IOException {
        String info = Host.run("qemu-img", "info", "-U", image.toString());
        assertThat(info).contains("file format: qcow2").doesNotContain("backing file");
    }

    /** The guest-visible contents are equal (qemu-img reads through each image's backing chain). */
    private static void assertIdentical(Path expected, Path actual) throws IOException {
        assertThat(Host.run("qemu-img", "compare", "-U", expected.toString(), actual.toString()))
                .as(actual + " vs " + expected).contains("Images are identical");
    }

    /** Each regular file's checksum and modification time, each other entry's kind; the serial log only by name. */
    private static Map<String, String> folderState(Path folder) throws IOException {
        Map<String, String> state = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path p : walk.toList()) {
                String name = folder.relativize(p).toString();
                if (Files.isRegularFile(p) && !p.getFileName().toString().equals("serial.log")) {
                    state.put(name, Trees.sha256(p) + " " + Files.getLastModifiedTime(p));
                } else {
                    state.put(name, Files.isDirectory(p) ? "dir" : "other");
                }
            }
        }
        return state;
    }

    private static String macOf(String domainXml) {
        Matcher m = MAC.matcher(domainXml);
        assertThat(m.find()).as("a MAC address in " + domainXml).isTrue();
        return m.group(1);
    }

    private static long heartbeatSequence(SerialLog.Line line) {
        Matcher m = WHOLE_HEARTBEAT.matcher(line.text());
        assertThat(m.matches()).isTrue();
        return Long.parseLong(m.group(1));
    }

    /**
     * Damages the backup's copy of the boot sector: one byte of the cluster that holds the guest's
     * offset 0, found with {@code qemu-img map}, so the flip lands in a data chunk of the file.
     */
    private static void flipByteOfGuestOffsetZero(Path qcow2) throws IOException {
        String map = Host.run("qemu-img", "map", "--output=json", "-f", "qcow2", qcow2.toString());
        Matcher m = Pattern.compile("\"start\": 0, .*\"data\": true, \"offset\": (\\d+)").matcher(map);
        assertThat(m.find()).as("guest offset 0 is data in " + qcow2 + ":\n" + map).isTrue();
        long offset = Long.parseLong(m.group(1));
        try (RandomAccessFile file = new RandomAccessFile(qcow2.toFile(), "rw")) {
            file.seek(offset);
            byte b = file.readByte();
            file.seek(offset);
            file.writeByte(~b);
        }
    }

    private static Path toRaw(Path image, Path raw) throws IOException {
        Host.run("qemu-img", "convert", "-U", "-O", "raw", image.toString(), raw.toString());
        return raw;
    }

    private static byte byteAt(Path file, long offset) throws IOException {
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            in.seek(offset);
            return in.readByte();
        }
    }

    // ------------------------------------------------------------------ processes

    /** A backup by the command line; the new backup's folder. */
    private Path backUp(TestGuest guest, String... options) throws Exception {
        List<String> args = new ArrayList<>(List.of("-c", QemuTestBed.URI, "-d", work.resolve("backups").toString(),
                "--state-dir", stateDir().toString()));
        args.addAll(List.of(options));
        args.add(guest.name);
        Result backup = CliProcess.finish(launch(args));
        assertThat(backup.code()).as(backup.text()).isZero();
        Path newest;
        try (Stream<Path> folders = Files.list(work.resolve("backups").resolve(guest.name))) {
            newest = folders.filter(p -> Files.exists(p.resolve(Manifest.FILE_NAME))).sorted()
                    .reduce((a, b) -> b).orElseThrow();
        }
        Thread.sleep(1100);  // backups of one domain are named by the second they start in
        return newest;
    }

    private Result restore(String... options) throws Exception {
        return CliProcess.finish(launch(restoreArgs(options)));
    }

    private List<String> restoreArgs(String... options) {
        List<String> args = new ArrayList<>(List.of("restore", "-c", QemuTestBed.URI, "--state-dir",
                stateDir().toString()));
        args.addAll(List.of(options));
        return args;
    }

    private Path stateDir() {
        return work.resolve("state");
    }

    private static Process launch(List<String> args) throws IOException {
        return CliProcess.start(args, Map.of("VIRT_BACKUP_SYSLOG_SOCKET", "/nonexistent/virt-backup-test-syslog"));
    }
}
