package io.jenkins.plugins.virtbackup.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.qemu.GuestPattern.Verdict;
import io.jenkins.plugins.virtbackup.qemu.TestGuest.DiskSpec;
import io.jenkins.plugins.virtbackup.testing.CliProcess;
import io.jenkins.plugins.virtbackup.testing.CliProcess.Result;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.HostRequirement;
import io.jenkins.plugins.virtbackup.testing.TmpfsMount;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Breaks backups on purpose, on real QEMU guests, through the packaged command line as a real
 * process: SIGKILL at every step that changes the domain, SIGTERM followed by SIGKILL 5 s later
 * (what a Jenkins abort does), a target that fills up. After each, {@code virt-backup recover} (or
 * the run itself) must have put the domain back exactly: running, on its own images, no overlay,
 * no job, its data intact; earlier backups byte-identical; nothing that looks complete.
 * Prints a table of fault, mode and outcome.
 */
class QemuFaultIT {
    /** 2 GiB sparse raw: copying it takes seconds, time enough to be killed in the middle. */
    private static final DiskSpec DISK = new DiskSpec("vda", "raw", 2048);
    /** A linked clone of a 2 GiB sparse raw template: copying the template takes seconds. */
    private static final DiskSpec CLONE = new DiskSpec("vda", "qcow2", 2048, 1);
    private static final List<String> TABLE = new ArrayList<>();
    /** The checksum of the guest's template before any run, when its disk is a linked clone. */
    private String templateSum;

    /** A way to interrupt a run: which line of its -v output to wait for, and how to stop it. */
    /** The domain's checkpoints after the earlier backup (none but live mode's): failed runs leave no other. */
    private List<String> checkpointsBefore = List.of();

    private record Fault(String name, String line, boolean sigterm) {
    }

    @Test
    void suspend() throws Exception {
        breakRuns("suspend",
                new Fault("SIGKILL after save", "saved the state of domain", false),
                new Fault("SIGKILL mid-copy", "copying disk vda", false),
                new Fault("SIGTERM, SIGKILL 5 s later, mid-copy", "copying disk vda", true));
    }

    @Test
    void shutdown() throws Exception {
        breakRuns("shutdown",
                new Fault("SIGKILL after shutdown", "is shut off", false),
                new Fault("SIGKILL mid-copy", "copying disk vda", false),
                new Fault("SIGTERM, SIGKILL 5 s later, mid-copy", "copying disk vda", true));
    }

    /**
     * A guest whose power off takes 8 s reports running meanwhile. Stopped right after the
     * shutdown request, the run waits for it to power off to start it again; killed 5 s later, it
     * leaves that to recovery, which must wait for the power off too.
     */
    @Test
    void shutdownStillInProgress() throws Exception {
        breakRuns("shutdown", "anc.poweroff_delay=8", DISK,
                new Fault("SIGTERM during the shutdown wait, SIGKILL 5 s later", "to shut down (timeout", true));
    }

    @Test
    void snapshotLibvirt() throws Exception {
        breakRuns("snapshot-libvirt",
                new Fault("SIGKILL after snapshot creation", "snapshot of domain", false),
                new Fault("SIGKILL mid-copy", "copying disk vda", false),
                new Fault("SIGKILL mid block commit", "merging ", false),
                new Fault("SIGTERM, SIGKILL 5 s later, mid-copy", "copying disk vda", true));
    }

    /**
     * An inc over the earlier full, broken at each step of the pull: afterwards the domain has no
     * job, no scratch files and only the full's checkpoint, and the next inc builds on the full.
     */
    @Test
    void liveIncremental() throws Exception {
        breakRuns("live", "", CLONE,
                new Fault("SIGKILL after the checkpoint is created", "serves its disks on", false),
                new Fault("SIGKILL mid-pull", "copying disk vda from the job's NBD export", false),
                new Fault("SIGKILL before the manifest is written", "disk vda: copied", false),
                new Fault("SIGTERM, SIGKILL 5 s later, mid-pull", "copying disk vda from the job's NBD export", true));
    }

    @Test
    void suspendOfALinkedClone() throws Exception {
        breakRuns("suspend", "", CLONE,
                new Fault("SIGKILL mid-copy of the template (linked clone)", "copying disk vda backing image 1", false));
    }

    @Test
    void snapshotLibvirtOfALinkedClone() throws Exception {
        breakRuns("snapshot-libvirt", "", CLONE,
                new Fault("SIGKILL mid-copy of the template (linked clone)", "copying disk vda backing image 1", false),
                new Fault("SIGKILL mid block commit (linked clone)", "merging ", false),
                new Fault("SIGTERM, SIGKILL 5 s later, mid-copy of the template (linked clone)",
                        "copying disk vda backing image 1", true));
    }

    @Test
    void targetFillingUpMidBackup() throws Exception {
        try (TestGuest guest = TestGuest.start("full", "", DISK)) {
            writePattern(guest);
            Path mount = QemuTestBed.guestWorkDir().resolve("full-" + System.nanoTime());
            // Room for the directories, log, domain.xml and memory.state; out of inodes for the disk copy.
            try (TmpfsMount target = TmpfsMount.mount(mount, "size=512m,nr_inodes=6,mode=755")) {
                Result run = run(guest, target.dir(), "-b", "suspend");
                assertThat(run.code()).as(run.text()).isEqualTo(1);
                assertThat(run.text()).contains("No space left on device");
                assertExactlyAsFound(guest, target.dir(), Map.of());
                row("target full mid-backup", "suspend", "the run put the domain back itself (exit 1)");
            } finally {
                Files.deleteIfExists(mount);
                Host.run("rm", "-rf", stateDir(mount).toString());
            }
        }
    }

    @Test
    void libvirtdRestartedMidBackup() throws Exception {
        HostRequirement.require("1".equals(System.getenv("VIRT_BACKUP_TEST_OWNS_LIBVIRTD")),
                "restarts libvirtd only when this test run started it (bin/test)");
        try (TestGuest guest = TestGuest.start("restart", "", DISK)) {
            writePattern(guest);
            Path backups = Files.createDirectories(QemuTestBed.guestWorkDir().resolve(guest.name + "-backups"));
            try {
                // The connection drops while the domain is saved and its disk is being copied.
                List<String> output = new ArrayList<>();
                Process process = restartLibvirtdAt("copying disk vda", output, start(guest, backups, "-v", "-b",
                        "suspend"));
                String outcome;
                if (process.exitValue() == 0) {
                    assertThat(Files.readString(backups.resolve("virt-backup-errors.log"))).contains("re-established");
                    outcome = "the run reconnected, put the domain back and finished (exit 0)";
                } else {
                    assertThat(process.exitValue()).as(String.join("\n", output)).isEqualTo(5);
                    assertThat(recover(guest, backups).code()).isZero();
                    outcome = "the run could not reconnect (exit 5); recovered by virt-backup recover";
                }
                assertThat(guest.state()).isEqualTo("running");
                assertThat(GuestPattern.check(guest.image("vda"), 0, 8).consistent()).isTrue();
                row("libvirtd restarted mid-copy", "suspend", outcome);
            } finally {
                Host.run("rm", "-rf", backups.toString(), stateDir(backups).toString());
            }
        }
    }

    /**
     * libvirt ends a pull job when it restarts: the run loses its exports mid-copy. Whatever the run
     * then does, the domain ends with no job, no scratch files, no checkpoint of the failed backup,
     * and the next inc still builds on the full.
     */
    @Test
    void libvirtdRestartedMidPull() throws Exception {
        HostRequirement.require("1".equals(System.getenv("VIRT_BACKUP_TEST_OWNS_LIBVIRTD")),
                "restarts libvirtd only when this test run started it (bin/test)");
        try (TestGuest guest = TestGuest.start("restartpull", "", CLONE)) {
            writePattern(guest);
            templateSum = Trees.sha256(guest.templates("vda").get(0));
            Path backups = Files.createDirectories(QemuTestBed.guestWorkDir().resolve(guest.name + "-backups"));
            try {
                Result full = run(guest, backups, "-b", "live");
                assertThat(full.code()).as(full.text()).isZero();
                Map<String, String> earlierBackups = Trees.snapshot(backups.resolve(guest.name));
                checkpointsBefore = checkpoints(guest);
                List<String> output = new ArrayList<>();
                Process process = restartLibvirtdAt("copying disk vda from the job's", output,
                        start(guest, backups, "-v", "-b", "live", "-l", "inc"));
                String outcome;
                if (process.exitValue() == 0) {
                    outcome = "the run finished its inc (exit 0)";
                    checkpointsBefore = checkpoints(guest);
                    earlierBackups = Trees.snapshot(backups.resolve(guest.name));
                } else {
                    assertThat(process.exitValue()).as(String.join("\n", output)).isIn(1, 5);
                    Result recover = recover(guest, backups);
                    assertThat(recover.code()).as(recover.text()).isZero();
                    outcome = process.exitValue() == 1 ? "the run failed and cleaned up itself (exit 1)"
                            : "the run could not clean up (exit 5); recovered by virt-backup recover";
                }
                assertExactlyAsFound(guest, backups, earlierBackups);
                Result next = run(guest, backups, "-b", "live", "-l", "inc");
                assertThat(next.code()).as(next.text()).isZero();
                row("libvirtd restarted mid-pull", "live", outcome + "; the next inc builds on the chain");
            } finally {
                Host.run("rm", "-rf", backups.toString(), stateDir(backups).toString());
            }
        }
    }

    /**
     * Restarts libvirtd once {@code process} prints {@code line}, then waits for the run to end;
     * everything it printed goes to {@code output}.
     */
    private static Process restartLibvirtdAt(String line, List<String> output, Process process) throws Exception {
        BufferedReader out = CliProcess.reader(process);
        output.addAll(CliProcess.readUntil(out, line));
        Host.run("bash", "-c", ". bin/lib/hypervisor.sh && restart_test_libvirtd");
        out.lines().forEach(output::add);
        assertThat(process.waitFor(300, TimeUnit.SECONDS)).isTrue();
        return process;
    }

    @AfterAll
    static void printTable() {
        System.out.println("\n| fault | mode | outcome |\n|---|---|---|");
        TABLE.forEach(System.out::println);
    }

    // ------------------------------------------------------------------ the procedure

    private void breakRuns(String mode, Fault... faults) throws Exception {
        breakRuns(mode, "", DISK, faults);
    }

    private void breakRuns(String mode, String cmdline, DiskSpec disk, Fault... faults) throws Exception {
        try (TestGuest guest = TestGuest.start(mode.replace("-", ""), cmdline, disk)) {
            writePattern(guest);
            Path backups = Files.createDirectories(QemuTestBed.guestWorkDir().resolve(guest.name + "-backups"));
            templateSum = guest.templates("vda").isEmpty() ? null : Trees.sha256(guest.templates("vda").get(0));
            try {
                long started = System.nanoTime();
                Result earlier = run(guest, backups, "-b", mode);
                assertThat(earlier.code()).as(earlier.text()).isZero();
                if (mode.equals("shutdown")) {
                    // Booted again, ACPI listener up: a power button pressed sooner is lost.
                    guest.serial.waitFor("ANC-READY", started, Duration.ofSeconds(120));
                }
                Map<String, String> earlierBackups = Trees.snapshot(backups.resolve(guest.name));
                checkpointsBefore = checkpoints(guest);
                for (Fault fault : faults) {
                    interrupt(guest, backups, mode, fault);
                    Result recover = recover(guest, backups);
                    assertThat(recover.code()).as(fault.name() + ": " + recover.text()).isZero();
                    assertExactlyAsFound(guest, backups, earlierBackups);
                    row(fault.name(), mode, recover.text().contains("recovered")
                            ? "recovered by virt-backup recover: exactly as found"
                            : "the run put the domain back itself: exactly as found");
                }
                if (mode.equals("live")) {
                    Result next = run(guest, backups, "-b", mode, "-l", "inc");
                    assertThat(next.code()).as(next.text()).isZero();
                    assertThat(next.text()).as("builds on the earlier full").contains("level inc");
                }
            } finally {
                Host.run("rm", "-rf", backups.toString(), stateDir(backups).toString());
            }
        }
    }

    private void interrupt(TestGuest guest, Path backups, String mode, Fault fault) throws Exception {
        Process process = mode.equals("live") ? start(guest, backups, "-v", "-b", mode, "-l", "inc")
                : start(guest, backups, "-v", "-b", mode);
        BufferedReader out = CliProcess.reader(process);
        CliProcess.readUntil(out, fault.line());
        if (fault.sigterm()) {
            process.toHandle().destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.toHandle().destroyForcibly();  // as Jenkins does after its grace period
            }
        } else {
            process.toHandle().destroyForcibly();
        }
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        out.close();
    }

    /** The domain as it was before the run, whatever happened to the run. */
    private void assertExactlyAsFound(TestGuest guest, Path backups, Map<String, String> earlierBackups)
            throws Exception {
        assertThat(guest.state()).isEqualTo("running");
        assertThat(guest.blockList()).singleElement().asString().endsWith(guest.image("vda").toString());
        assertThat(guest.virsh("domjobinfo", guest.name)).contains("None");
        try (Stream<Path> files = Files.list(guest.dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("overlay"));
        }
        try (Stream<Path> files = Files.list(Files.createDirectories(stateDir(backups).resolve("overlays")))) {
            assertThat(files).as("overlay folder").isEmpty();
        }
        long now = System.nanoTime();
        guest.serial.waitFor("^H ", now, Duration.ofSeconds(60));
        if (guest.templates("vda").isEmpty()) {
            Verdict verdict = GuestPattern.check(guest.image("vda"), 0, 8);
            assertThat(verdict.consistent() && verdict.patterned() == 128).as("data: " + verdict).isTrue();
        } else {
            // The guest's own writes sit in QEMU's qcow2 caches until it closes the image; what must
            // hold here is that the template, shared by other clones, is exactly as it was.
            assertThat(Host.run("qemu-img", "info", "-U", guest.image("vda").toString()))
                    .contains("backing file: " + guest.templates("vda").get(0));
            assertThat(Trees.sha256(guest.templates("vda").get(0))).as("the template").isEqualTo(templateSum);
        }
        assertThat(Trees.snapshot(backups.resolve(guest.name))).as("earlier backups, and nothing else")
                .isEqualTo(earlierBackups);
        assertThat(checkpoints(guest)).as("the earlier backups' checkpoints, and no other")
                .isEqualTo(checkpointsBefore);
        Path scratch = stateDir(backups).resolve("scratch");
        if (Files.isDirectory(scratch)) {
            try (Stream<Path> folders = Files.list(scratch)) {
                assertThat(folders).as("scratch files").isEmpty();
            }
        }
    }

    private static List<String> checkpoints(TestGuest guest) throws Exception {
        return guest.virsh("checkpoint-list", guest.name, "--name").strip().lines().toList();
    }

    private static void writePattern(TestGuest guest) throws Exception {
        long sent = System.nanoTime();
        guest.command("write 0 8 1");
        guest.serial.waitFor("ANC-WRITER-END", sent, Duration.ofSeconds(60));
        guest.command("sync");
    }

    private static void row(String fault, String mode, String outcome) {
        TABLE.add("| " + fault + " | " + mode + " | " + outcome + " |");
    }

    // ------------------------------------------------------------------ processes

    private static Path stateDir(Path backups) {
        return backups.resolveSibling(backups.getFileName() + "-state");
    }

    private Result run(TestGuest guest, Path backups, String... options) throws Exception {
        return CliProcess.finish(start(guest, backups, options));
    }

    private Result recover(TestGuest guest, Path backups) throws Exception {
        return CliProcess.finish(launch(List.of("recover", "-v", "-c", QemuTestBed.URI, "--state-dir",
                stateDir(backups).toString(), guest.name)));
    }

    private Process start(TestGuest guest, Path backups, String... options) throws IOException {
        List<String> args = new ArrayList<>(List.of("-c", QemuTestBed.URI, "-d", backups.toString(),
                "--state-dir", stateDir(backups).toString()));
        args.addAll(List.of(options));
        args.add(guest.name);
        return launch(args);
    }

    private static Process launch(List<String> args) throws IOException {
        return CliProcess.start(args, Map.of("VIRT_BACKUP_SYSLOG_SOCKET", "/nonexistent/virt-backup-test-syslog"));
    }
}
