package io.jenkins.plugins.virtbackup.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.testing.CliProcess;
import io.jenkins.plugins.virtbackup.testing.HostRequirement;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The groundwork of the snapshot-dm proof (issue 15): in a guest whose kernel has device-mapper,
 * real LVM snapshots behave as the mode will rely on, and the packaged command line runs there
 * against libvirt's test driver with disks on LVM. The checks are made here, on what the guest
 * recorded ({@code dm-proof.sh}), not by the script alone.
 */
class DmGuestIT {
    @TempDir
    Path results;

    @Test
    void lvmSnapshotsAndThePackagedCommandLineWorkInTheGuest() throws Exception {
        DmGuest.Result run = runWithTheJar("proof", "dm-proof.sh", 256, Duration.ofMinutes(8));
        assertThat(run.file("dm-targets.txt").lines()).anyMatch(line -> line.startsWith("snapshot "));

        // While the snapshot exists: it is a snapshot of images, which is its origin.
        assertThat(run.file("lvs-with-snapshot.txt").lines())
                .anyMatch(lv -> lv.matches("images-snap,images,s.*"))
                .anyMatch(lv -> lv.matches("images,,o.*"));
        // The origin has both files; the snapshot, mounted read-only, only what was there before it,
        // with the content of then.
        assertThat(run.file("origin-files.txt").lines()).contains("before.txt", "after.txt");
        assertThat(run.file("snapshot-files.txt").lines()).contains("before.txt").doesNotContain("after.txt");
        assertThat(run.file("snapshot-before.txt")).isEqualTo("written before the snapshot\n");
        assertThat(run.file("lvs-after.txt").lines()).noneMatch(lv -> lv.startsWith("images-snap,"))
                .anyMatch(lv -> lv.matches("images,,-.*"));

        // The same jar as on this host, and a complete backup whose disks equal the LVM-held sources.
        String hostVersion = CliProcess.run(List.of("--version"), Map.of()).text().strip();
        assertThat(run.file("cli-version.txt").strip()).isEqualTo(hostVersion);
        assertThat(run.file("result.json")).contains("\"status\": 0").contains("\"domain\": \"web\"");
        assertThat(run.file("backup-files.txt").lines()).contains("manifest.json", "vda.raw", "vdb.raw");
        List<String> sums = run.file("sums.txt").lines().toList();
        assertThat(sums).hasSize(4);
        assertThat(sum(sums, "backup vda")).isEqualTo(sum(sums, "source vda"));
        assertThat(sum(sums, "backup vdb")).isEqualTo(sum(sums, "source vdb"));
        assertThat(sum(sums, "source vda")).isNotEqualTo(sum(sums, "source vdb"));
    }

    /**
     * snapshot-dm on real LVM (issue 15): the packaged command line backs up a running test-driver
     * domain whose disks are an image file on an ext4 LV, an LV, and a linked clone on an XFS LV
     * over a template on the ext4 LV; it reads them from snapshots (the mounted snapshots' file
     * systems, the snapshot's device), and leaves no snapshot or mount. A snapshot too small for
     * what is written meanwhile fails the backup; a disk off LVM, a full volume group, a thin
     * volume and a run as another user than root are usage errors with nothing made;
     * writes to the origins once the domain runs again do not reach the backup; runs stopped at each
     * step of the mode leave nothing after {@code recover}, and the earlier backup intact.
     */
    @Test
    void snapshotDmBacksUpFromRealLvmSnapshots() throws Exception {
        DmGuest.Result run = runWithTheJar("snapshot", "dm-snapshot-proof.sh", 1024, Duration.ofMinutes(12));

        assertBackupFromTheSnapshots(run);
        assertOverflowFails(run);
        assertEachRefusalMakesNothing(run);
        assertWritesAfterTheSnapshotsStayOut(run);
        assertEveryStoppedRunIsRecovered(run);
    }

    private static void assertBackupFromTheSnapshots(DmGuest.Result run) throws Exception {
        String log = run.file("backup.log");
        assertThat(run.file("backup.exit").strip()).as("the backup's output:%n%s", log).isEqualTo("0");
        assertThat(log).containsPattern("creating snapshot vbt/images-vbsnap-[\\d-]+ of vbt/images")
                .containsPattern("creating snapshot vbt/blk-vbsnap-[\\d-]+ of vbt/blk")
                .containsPattern("creating snapshot vbt/xfs-vbsnap-[\\d-]+ of vbt/xfs")
                .containsPattern("mounting snapshot /dev/vbt/images-vbsnap-[\\d-]+ read-only at "
                        + "/tmp/vbt-state/dm-mounts/\\S+ \\(ro,noload,nodev,nosuid,noexec\\)")
                .containsPattern("mounting snapshot /dev/vbt/xfs-vbsnap-[\\d-]+ read-only at "
                        + "/tmp/vbt-state/dm-mounts/\\S+ \\(ro,nouuid,norecovery,nodev,nosuid,noexec\\)")
                .containsPattern("copying disk vda from /tmp/vbt-state/dm-mounts/web-vbt-images-vbsnap-[\\d-]+/web.raw")
                .containsPattern("copying disk vdb from /dev/vbt/blk-vbsnap-[\\d-]+")
                .containsPattern("copying disk vdc from /tmp/vbt-state/dm-mounts/web-vbt-xfs-vbsnap-[\\d-]+/clone.qcow2")
                .containsPattern("copying disk vdc backing image 1 from "
                        + "/tmp/vbt-state/dm-mounts/web-vbt-images-vbsnap-[\\d-]+/template.qcow2");
        String manifest = run.file("manifest.json");
        System.out.println("dm guest, snapshot-dm: " + manifest.lines().filter(l -> l.contains("downtime"))
                .map(String::strip).toList());
        assertThat(manifest).contains("\"mode\": \"snapshot-dm\"").contains("\"downtimeMeasuredBy\": \"host\"")
                .containsPattern("\"downtimeMs\": \\d+");
        assertThat(run.file("backup-files.txt").lines()).contains("manifest.json", "memory.state", "vda.raw",
                "vdb.raw", "vdc.qcow2", "vdc.backing-1.qcow2");
        List<String> sums = run.file("sums.txt").lines().toList();
        for (String disk : List.of("vda", "vdb", "vdc")) {
            assertThat(sum(sums, "backup " + disk)).as(disk).isEqualTo(sum(sums, "source " + disk));
        }
        assertThat(run.file("vdc-chain.txt")).as("the copied chain, as qemu-img sees it")
                .contains("backing file: vdc.backing-1.qcow2");
        assertThat(run.file("lvs-after-backup.txt").lines()).as("no snapshot left").hasSize(3)
                .allMatch(lv -> lv.matches("(images|blk|xfs),,-.*"));
        assertThat(run.file("mounts-after-backup.txt")).doesNotContain("vbsnap");
        assertThat(run.file("mount-folders-after-backup.txt")).isBlank();
    }

    private static void assertOverflowFails(DmGuest.Result run) throws Exception {
        String overflow = run.file("overflow.log");
        assertThat(run.file("overflow.exit").strip()).as("the overflowing run:%n%s", overflow).isEqualTo("1");
        assertThat(overflow).contains("the snapshot of vbt/blk overflowed").contains("--snapshot-size");
        assertThat(run.file("lvs-after-overflow.txt").lines()).noneMatch(lv -> lv.contains("vbsnap"));
        assertThat(run.file("overflow-backups.txt")).as("no backup kept").isBlank();
    }

    private static void assertEachRefusalMakesNothing(DmGuest.Result run) throws Exception {
        assertUsageError(run, "off-lvm", "snapshot-dm cannot back up disk vda: /var/tmp/off-lvm.raw is on",
                "which is not an LVM logical volume");
        assertUsageError(run, "full-vg", "volume group vbt has 0 B free");
        assertThat(run.file("full-vg-backups.txt")).as("nothing made").isBlank();
        assertUsageError(run, "thin", "snapshot-dm does not snapshot thin logical volumes (vbt/thin is thin)");
        assertUsageError(run, "not-root", "snapshot-dm needs root: virt-backup runs as user id 65534");
        assertThat(run.file("not-root-backups.txt")).as("nothing made").isBlank();
    }

    /** Run {@code name} exited 2 saying {@code messages}, and no snapshot was left. */
    private static void assertUsageError(DmGuest.Result run, String name, String... messages) throws IOException {
        String log = run.file(name + ".log");
        assertThat(run.file(name + ".exit").strip()).as("the %s run:%n%s", name, log).isEqualTo("2");
        assertThat(log).contains(messages);
        assertThat(run.file("lvs-after-" + name + ".txt").lines()).noneMatch(lv -> lv.contains("vbsnap"));
    }

    /**
     * The run was held still from the domain's restart until every origin was rewritten (the
     * linked clone's template too); the backup restores with virt-backup as a copy, its LV disk as
     * a file, and with qemu-img onto an LV.
     */
    private static void assertWritesAfterTheSnapshotsStayOut(DmGuest.Result run) throws Exception {
        String log = run.file("consistent.log");
        assertThat(run.file("consistent.exit").strip()).as("the backup's output:%n%s", log).isEqualTo("0");
        List<String> sums = run.file("consistent-sums.txt").lines().toList();
        for (String disk : List.of("vda", "vdb", "vdc")) {
            assertThat(sum(sums, "after " + disk)).as(disk + " was rewritten").isNotEqualTo(sum(sums, "before " + disk));
            assertThat(sum(sums, "backup " + disk)).as(disk + " as it was at the snapshot")
                    .isEqualTo(sum(sums, "before " + disk));
        }
        String restore = run.file("restore.log");
        assertThat(run.file("restore.exit").strip()).as("virt-backup restore:%n%s", restore).isEqualTo("0");
        for (String disk : List.of("vda", "vdb", "vdc")) {
            assertThat(sum(sums, "restored " + disk)).as("restored " + disk).isEqualTo(sum(sums, "before " + disk));
        }
        assertThat(sum(sums, "stock vdb")).as("qemu-img convert -n onto an LV").isEqualTo(sum(sums, "before vdb"));
    }

    /**
     * Each row stopped a run at one step: while the domain's state was saved, while the snapshots
     * were made (the domain stopped), while a snapshot was mounted, mid-copy; by SIGKILL, which
     * leaves the journal to {@code recover}, or SIGTERM (a Jenkins abort), after which the run puts
     * the domain back itself and, given the time, everything else.
     */
    private static void assertEveryStoppedRunIsRecovered(DmGuest.Result run) throws Exception {
        assertThat(run.file("faults.txt").lines()).containsExactly("kill-saving", "kill-snapshotting",
                "kill-mounting", "kill-copying", "term-snapshotting", "term-copying");
        String kept = run.file("kept-backup-name.txt").strip();
        // What each SIGKILL left to recover: the journal holds the step of the moment it struck.
        Map<String, List<String>> leftSteps = Map.of("kill-saving", List.of("restore"),
                "kill-snapshotting", List.of("restore", "remove-snapshot"), "kill-mounting", List.of("unmount"),
                "kill-copying", List.of("unmount", "remove-snapshot"));
        leftSteps.forEach((fault, steps) -> steps.forEach(step -> assertThat(journal(run, fault))
                .as(fault + ": the journal before recover").containsPattern("\"action\":\\s*\"" + step + "\"")));
        for (String fault : run.file("faults.txt").lines().toList()) {
            String recover = run.file(fault + ".recover.log");
            String exit = run.file(fault + ".exit").strip();
            System.out.printf("dm guest, snapshot-dm fault %s: the run exited %s, recover %s%n", fault, exit,
                    run.file(fault + ".recover.exit").strip());
            assertThat(exit).as(fault + ": the run was stopped:%n%s", run.file(fault + ".log")).isNotEqualTo("0");
            assertThat(run.file(fault + ".recover.exit").strip()).as(fault + ": recover:%n%s", recover).isEqualTo("0");
            assertThat(run.file(fault + ".lvs.txt").lines()).as(fault + ": no snapshot left")
                    .noneMatch(lv -> lv.contains("vbsnap"));
            assertThat(run.file(fault + ".mounts.txt")).as(fault + ": no mount left").doesNotContain("vbsnap");
            assertThat(run.file(fault + ".mount-folders.txt")).as(fault + ": no mount folder left").isBlank();
            assertThat(run.file(fault + ".backups.txt").lines()).as(fault + ": only the complete backup")
                    .containsExactly(kept);
        }
        // SIGKILL mid-copy leaves both snapshots, one mounted, to recover, which names what it undoes.
        assertThat(run.file("kill-copying.mounts-before-recover.txt"))
                .contains("/tmp/vbt-state/dm-mounts/bulk-vbt-images-vbsnap-");
        assertThat(run.file("kill-copying.lvs-before-recover.txt").lines())
                .anyMatch(lv -> lv.matches("images-vbsnap-[\\d-]+,images,s.*"))
                .anyMatch(lv -> lv.matches("bulk-vbsnap-[\\d-]+,bulk,s.*"));
        assertThat(run.file("kill-copying.recover.log")).contains("unmount the snapshot at")
                .contains("remove snapshot vbt/bulk-vbsnap-");
        // SIGTERM while the domain is off for the snapshots: the run itself restores it first.
        assertThat(run.file("term-snapshotting.log")).containsPattern("domain 'bulk' runs again after");
        // SIGTERM mid-copy: the run put everything away before it ended.
        assertThat(run.file("term-copying.lvs-before-recover.txt")).doesNotContain("vbsnap");
        assertThat(run.file("term-copying.mounts-before-recover.txt")).doesNotContain("vbsnap");
        assertThat(run.file("kept-backup-after.txt")).as("the complete backup, byte for byte")
                .isEqualTo(run.file("kept-backup-before.txt"));
    }

    /** The harness reports what the script did, a failure included: not always a success. */
    @Test
    void theScriptsOutputAndExitStatusComeBack() throws Exception {
        DmGuest.Result run = DmGuest.run("status", "echo \"from the guest: $(uname -r)\"\n"
                + "echo result > /vbt/out/written.txt\nexit 3\n", Map.of(), 16, Duration.ofMinutes(3), results);

        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.file("output.log")).matches("(?s)from the guest: \\d+\\.\\d+\\.\\d+-\\d+-amd64\n");
        assertThat(run.file("written.txt")).isEqualTo("result\n");
        assertThat(run.console()).contains("VBT-EXIT 3");
    }

    /** A guest that does not end in time is killed and everything it used is gone. */
    @Test
    void aGuestPastItsTimeoutIsKilledAndNothingIsLeft() throws Exception {
        assertThatThrownBy(() -> DmGuest.run("timeout", "echo sleeping; sleep 600\n", Map.of(), 16,
                Duration.ofSeconds(45), results))
                .isInstanceOf(TimeoutException.class).hasMessageContaining("did not power off within")
                .hasMessageContaining("sleeping");

        try (Stream<Path> left = Files.list(QemuTestBed.WORK)) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("vbt-dm-timeout-"));
        }
        assertThat(ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse("")))
                .noneMatch(command -> command.contains("vbt-dm-timeout-"));
    }

    /** Runs a proof script in the guest beside the packaged jar; it must end with status 0. */
    private DmGuest.Result runWithTheJar(String purpose, String script, int pvMiB, Duration timeout) throws Exception {
        HostRequirement.require(Files.exists(CliProcess.JAR), "no " + CliProcess.JAR + " (mvn package builds it)");
        DmGuest.Result run = DmGuest.run(purpose, resource(script), Map.of("virt-backup-cli.jar", CliProcess.JAR),
                pvMiB, timeout, results);
        System.out.printf("dm guest, %s: boot %.1f s, whole run %.1f s; %s%n", script, run.boot().toMillis() / 1e3,
                run.total().toMillis() / 1e3, run.file("timings.txt").strip().replace('\n', ' '));
        assertThat(run.exitCode()).as("the proof script's exit status; console:%n%s", run.console()).isZero();
        return run;
    }

    private static String journal(DmGuest.Result run, String fault) {
        try {
            return run.file(fault + ".journal.txt");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sum(List<String> sums, String prefix) {
        return sums.stream().filter(line -> line.startsWith(prefix + " ")).findFirst().orElseThrow()
                .substring(prefix.length() + 1);
    }

    private static String resource(String name) throws Exception {
        try (InputStream in = DmGuestIT.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
