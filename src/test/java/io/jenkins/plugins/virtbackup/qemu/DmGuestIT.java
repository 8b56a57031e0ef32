package io.jenkins.plugins.virtbackup.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.testing.CliProcess;
import io.jenkins.plugins.virtbackup.testing.HostRequirement;
import java.io.InputStream;
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
        HostRequirement.require(Files.exists(CliProcess.JAR), "no " + CliProcess.JAR + " (mvn package builds it)");
        DmGuest.Result run = DmGuest.run("proof", resource("dm-proof.sh"),
                Map.of("virt-backup-cli.jar", CliProcess.JAR), 256, Duration.ofMinutes(8), results);
        System.out.printf("dm guest: boot %.1f s, whole run %.1f s; %s%n", run.boot().toMillis() / 1e3,
                run.total().toMillis() / 1e3, run.file("timings.txt").strip().replace('\n', ' '));

        assertThat(run.exitCode()).as("the proof script's exit status; console:%n%s", run.console()).isZero();
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
     * domain whose disks are an image file on an ext4 LV and an LV; it reads them from snapshots
     * (the mounted snapshot's file system, the snapshot's device), and leaves no snapshot or mount.
     * A snapshot too small for what is written meanwhile fails the backup; a disk off LVM is a
     * usage error with nothing made; a run killed mid-copy leaves a snapshot mounted, and
     * {@code recover} unmounts and removes what it left.
     */
    @Test
    void snapshotDmBacksUpFromRealLvmSnapshots() throws Exception {
        HostRequirement.require(Files.exists(CliProcess.JAR), "no " + CliProcess.JAR + " (mvn package builds it)");
        DmGuest.Result run = DmGuest.run("snapshot", resource("dm-snapshot-proof.sh"),
                Map.of("virt-backup-cli.jar", CliProcess.JAR), 256, Duration.ofMinutes(8), results);
        System.out.printf("dm guest, snapshot-dm: boot %.1f s, whole run %.1f s; %s%n", run.boot().toMillis() / 1e3,
                run.total().toMillis() / 1e3, run.file("timings.txt").strip().replace('\n', ' '));
        assertThat(run.exitCode()).as("the proof script's exit status; console:%n%s", run.console()).isZero();

        String log = run.file("backup.log");
        assertThat(run.file("backup.exit").strip()).as("the backup's output:%n%s", log).isEqualTo("0");
        assertThat(log).containsPattern("creating snapshot vbt/images-vbsnap-\\d+ of vbt/images")
                .containsPattern("creating snapshot vbt/blk-vbsnap-\\d+ of vbt/blk")
                .containsPattern("mounting snapshot /dev/vbt/images-vbsnap-\\d+ read-only at "
                        + "/tmp/vbt-state/dm-mounts/\\S+ \\(ro,noload\\)")
                .containsPattern("copying disk vda from /tmp/vbt-state/dm-mounts/web-vbt-images-vbsnap-\\d+/web.raw")
                .containsPattern("copying disk vdb from /dev/vbt/blk-vbsnap-\\d+");
        String manifest = run.file("manifest.json");
        System.out.println("dm guest, snapshot-dm: " + manifest.lines().filter(l -> l.contains("downtime"))
                .map(String::strip).toList());
        assertThat(manifest).contains("\"mode\": \"snapshot-dm\"").contains("\"downtimeMeasuredBy\": \"host\"")
                .containsPattern("\"downtimeMs\": \\d+");
        assertThat(run.file("backup-files.txt").lines()).contains("manifest.json", "memory.state", "vda.raw",
                "vdb.raw");
        List<String> sums = run.file("sums.txt").lines().toList();
        assertThat(sum(sums, "backup vda")).isEqualTo(sum(sums, "source vda"));
        assertThat(sum(sums, "backup vdb")).isEqualTo(sum(sums, "source vdb"));
        assertThat(run.file("lvs-after-backup.txt").lines()).as("no snapshot left").hasSize(2)
                .anyMatch(lv -> lv.startsWith("images,,-")).anyMatch(lv -> lv.startsWith("blk,,-"));
        assertThat(run.file("mounts-after-backup.txt")).doesNotContain("vbsnap");
        assertThat(run.file("mount-folders-after-backup.txt")).isBlank();

        String overflow = run.file("overflow.log");
        assertThat(run.file("overflow.exit").strip()).as("the overflowing run:%n%s", overflow).isEqualTo("1");
        assertThat(overflow).contains("the snapshot of vbt/blk overflowed").contains("--snapshot-size");
        assertThat(run.file("lvs-after-overflow.txt").lines()).noneMatch(lv -> lv.contains("vbsnap"));
        assertThat(run.file("overflow-backups.txt")).as("no backup kept").isBlank();

        String offLvm = run.file("off-lvm.log");
        assertThat(run.file("off-lvm.exit").strip()).as("the off-LVM run:%n%s", offLvm).isEqualTo("2");
        assertThat(offLvm).contains("snapshot-dm cannot back up disk vda: /var/tmp/off-lvm.raw is on")
                .contains("which is not an LVM logical volume");
        assertThat(run.file("lvs-after-off-lvm.txt").lines()).noneMatch(lv -> lv.contains("vbsnap"));

        // Killed mid-copy: its snapshots and its mount outlive it; recover removes them.
        assertThat(run.file("mounts-after-kill.txt")).as("killed while a snapshot was mounted")
                .contains("/tmp/vbt-state/dm-mounts/bulk-vbt-images-vbsnap-");
        assertThat(run.file("lvs-after-kill.txt").lines()).anyMatch(lv -> lv.matches("images-vbsnap-\\d+,images,s.*"))
                .anyMatch(lv -> lv.matches("bulk-vbsnap-\\d+,bulk,s.*"));
        String recover = run.file("recover.log");
        assertThat(run.file("recover.exit").strip()).as("recover:%n%s", recover).isEqualTo("0");
        assertThat(recover).contains("unmount the snapshot at").contains("remove snapshot vbt/bulk-vbsnap-");
        assertThat(run.file("mounts-after-recover.txt")).doesNotContain("vbsnap");
        assertThat(run.file("lvs-after-recover.txt").lines()).noneMatch(lv -> lv.contains("vbsnap"));
        assertThat(run.file("kill-backups.txt")).as("the unfinished backup is removed").isBlank();
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
