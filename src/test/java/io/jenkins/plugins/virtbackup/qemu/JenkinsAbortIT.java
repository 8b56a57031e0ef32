package io.jenkins.plugins.virtbackup.qemu;

import static io.jenkins.plugins.virtbackup.testing.JenkinsController.freestyleJob;
import static io.jenkins.plugins.virtbackup.testing.JenkinsController.pipelineJob;
import static io.jenkins.plugins.virtbackup.testing.JenkinsController.xml;
import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.qemu.GuestPattern.Verdict;
import io.jenkins.plugins.virtbackup.qemu.TestGuest.DiskSpec;
import io.jenkins.plugins.virtbackup.testing.CliProcess;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.JenkinsController;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Aborting a build in the middle of a backup, in a real Jenkins 2.541.3, on a real QEMU guest
 * (libvirt's test driver keeps no domain state between processes, so it could not show the domain
 * being put back). The build's stop button ({@code /job/X/N/stop}) while the disk is being copied in
 * suspend mode, the domain saved and shut off: the moment the build is final, the domain must be
 * running again exactly as found, the engine's process gone, its last lines in the log before
 * {@code Finished: ABORTED}. For a freestyle build and for a Pipeline.
 */
class JenkinsAbortIT {
    /** Sparse raw, seconds to copy: the abort arrives while the copy runs. */
    private static final DiskSpec DISK = new DiskSpec("vda", "raw", 4096);
    /** Data written from the host where the guest never looks: a copy that skips holes still has it to copy. */
    private static final long FILLER_OFFSET = 1L << 30;
    private static final int FILLER_MIB = 512;

    @TempDir
    static Path work;
    static JenkinsController jenkins;
    static TestGuest guest;
    static Path backups;
    static Path state;

    @BeforeAll
    static void startGuestAndJenkins() throws Exception {
        JenkinsController.runtime();
        guest = TestGuest.start("jabort", "", DISK);
        long sent = System.nanoTime();
        guest.command("write 0 8 1");
        guest.serial.waitFor("ANC-WRITER-END", sent, Duration.ofSeconds(60));
        guest.command("sync");
        writeFiller(guest.image("vda"));
        backups = Files.createDirectories(QemuTestBed.guestWorkDir().resolve(guest.name + "-backups"));
        state = QemuTestBed.guestWorkDir().resolve(guest.name + "-state");
        jenkins = JenkinsController.start("JenkinsAbortIT", work, Map.of("VIRT_BACKUP_STATE_DIR", state.toString()));
    }

    @AfterAll
    static void stopAll() throws Exception {
        try {
            if (jenkins != null) {
                jenkins.close();
            }
        } finally {
            try {
                if (guest != null) {
                    guest.close();
                }
            } finally {
                if (backups != null) {
                    Host.run("rm", "-rf", backups.toString(), state.toString());
                }
            }
        }
    }

    @Test
    void freestyleAbortPutsTheDomainBackBeforeTheBuildEnds() throws Exception {
        String builder = "    <io.jenkins.plugins.virtbackup.jenkins.VirtBackupBuilder plugin=\"virt-backup\">\n"
                + "      <domain>" + xml(guest.name) + "</domain><uri>" + QemuTestBed.URI + "</uri>\n"
                + "      <mode>suspend</mode><backupDir>" + xml(backups.toString()) + "</backupDir>\n"
                + "      <verbose>true</verbose>\n    </io.jenkins.plugins.virtbackup.jenkins.VirtBackupBuilder>";
        abortMidCopy("freestyle-abort", freestyleJob(null, builder));
    }

    @Test
    void pipelineAbortPutsTheDomainBackBeforeTheBuildEnds() throws Exception {
        abortMidCopy("pipeline-abort", pipelineJob("node {\n  virtBackup domain: '" + guest.name + "', uri: '"
                + QemuTestBed.URI + "', backupDir: '" + backups + "', verbose: true\n}\necho 'not reached'"));
    }

    /**
     * Over a connection that is a child process of the engine, as libvirt's {@code ssh} is for
     * {@code qemu+ssh://} (here {@code qemu+ext://}, with libvirt's own {@code virt-ssh-helper}, the
     * program ssh runs on the far side): Jenkins' kill must not reach that child, or the engine loses
     * the connection it puts the domain back through. The child logs whether a SIGTERM reached it and
     * how it ended.
     */
    @Test
    void pipelineAbortOverAnSshLikeConnectionLeavesTheConnectionToTheEngine() throws Exception {
        Path connectionLog = work.resolve("connection.log");
        Path helper = work.resolve("libvirt-connection");
        Files.writeString(helper, "#!/bin/sh\ntrap 'echo TERM >> " + connectionLog + "' TERM\n"
                + "/usr/bin/virt-ssh-helper " + QemuTestBed.URI + "\necho \"exit $?\" >> " + connectionLog + "\n");
        Files.setPosixFilePermissions(helper, PosixFilePermissions.fromString("rwxr-xr-x"));
        String uri = QemuTestBed.URI.replace("qemu://", "qemu+ext://") + "?command=" + helper;

        abortMidCopy("pipeline-abort-ext", pipelineJob("node {\n  virtBackup domain: '" + guest.name + "', uri: '"
                + uri + "', backupDir: '" + backups + "', verbose: true\n}\necho 'not reached'"));

        List<String> connections = JenkinsController.waitFor("the connections to end", Duration.ofSeconds(30),
                () -> Files.exists(connectionLog) && Files.readAllLines(connectionLog).stream()
                        .anyMatch(line -> line.startsWith("exit")) ? Files.readAllLines(connectionLog) : null);
        assertThat(connections).as("no SIGTERM reached the engine's connection; it ended when the engine closed it")
                .doesNotContain("TERM").allMatch(line -> line.startsWith("exit ")).doesNotContain("exit 143");
    }

    /**
     * The controller restarts in the middle of a Pipeline backup (SIGTERM to its JVM, as a service
     * manager stops it). The engine, detached from Jenkins, goes on by itself and completes the backup
     * with the domain running again; after the restart the step fails saying so, where the engine's log
     * is, and the build is final.
     */
    @Test
    void controllerRestartMidBackupLeavesACompleteBackupAndAClearFailure() throws Exception {
        String job = "pipeline-restart";
        jenkins.createJob(job, pipelineJob("node {\n  virtBackup domain: '" + guest.name + "', uri: '"
                + QemuTestBed.URI + "', backupDir: '" + backups + "', verbose: true\n}\necho 'not reached'"));
        int number = jenkins.build(job);
        jenkins.waitForConsole(job, number, "copying disk vda");

        jenkins.restart();
        String result = JenkinsController.waitFor(job + " to end after the restart", Duration.ofMinutes(5),
                () -> jenkins.finalResult(job, number));
        String console = jenkins.console(job, number);
        JenkinsController.waitFor("the engine to end", Duration.ofMinutes(5), () -> JenkinsController.processes(
                c -> c.contains("virt-backup-cli-") && c.endsWith("-- " + guest.name)).isEmpty() ? true : null);

        try {
            assertThat(result).as(console).isEqualTo("FAILURE");
            assertThat(console).contains("Jenkins restarted while virt-backup of domain '" + guest.name + "' ran",
                    "engine.log").doesNotContain("not reached");
            assertThat(guest.state()).isEqualTo("running");
            List<Path> complete;
            try (var dirs = Files.list(backups.resolve(guest.name))) {
                complete = dirs.filter(dir -> Files.exists(dir.resolve("manifest.json"))).toList();
            }
            assertThat(complete).as("the engine completed the backup by itself").hasSize(1);
            CliProcess.Result verify = CliProcess.run(List.of("verify", complete.get(0).toString()), Map.of());
            assertThat(verify.code()).as(verify.text()).isZero();
        } finally {
            Host.run("rm", "-rf", backups.resolve(guest.name).toString());
        }
    }

    private static void abortMidCopy(String job, String config) throws Exception {
        jenkins.createJob(job, config);
        int number = jenkins.build(job);
        jenkins.waitForConsole(job, number, "copying disk vda");
        String midCopy = guest.state();

        jenkins.abort(job, number);
        String result = JenkinsController.waitFor(job + " to end", Duration.ofMinutes(5),
                () -> jenkins.finalResult(job, number));
        // At once, before anything else can happen: what the domain and the engine are like now.
        String domainWhenFinal = guest.state();
        List<String> enginesWhenFinal = JenkinsController.processes(
                c -> c.contains("virt-backup-cli-") && c.endsWith("-- " + guest.name));
        String console = jenkins.console(job, number);

        assertThat(midCopy).as("saved while its disk is copied").isEqualTo("shut off");
        assertThat(result).as(console).isEqualTo("ABORTED");
        assertThat(domainWhenFinal).as("the domain when the build was final").isEqualTo("running");
        assertThat(enginesWhenFinal).as("engine processes when the build was final").isEmpty();
        int finished = console.indexOf("Finished: ABORTED");
        assertThat(console.indexOf("virt-backup: warning: stopping: putting the domain back first"))
                .as(console).isPositive().isLessThan(finished);
        assertThat(console.indexOf("virt-backup: error: backup stopped before it was complete"))
                .as(console).isPositive().isLessThan(finished);
        assertThat(console).doesNotContain("not reached");
        assertExactlyAsFound();
    }

    private static void writeFiller(Path image) throws IOException {
        ByteBuffer block = ByteBuffer.allocate(1 << 20);
        for (int i = 0; i < block.capacity(); i++) {
            block.put(i, (byte) (i * 31 + 7));
        }
        try (FileChannel disk = FileChannel.open(image, StandardOpenOption.WRITE)) {
            for (int mib = 0; mib < FILLER_MIB; mib++) {
                disk.write(block.rewind(), FILLER_OFFSET + ((long) mib << 20));
            }
        }
    }

    /** Running on its own image, no job, no overlay, its data intact, no backup left that looks complete. */
    private static void assertExactlyAsFound() throws Exception {
        assertThat(guest.blockList()).singleElement().asString().endsWith(guest.image("vda").toString());
        assertThat(guest.virsh("domjobinfo", guest.name)).contains("None");
        try (var files = Files.list(guest.dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("overlay"));
        }
        long now = System.nanoTime();
        guest.serial.waitFor("^H ", now, Duration.ofSeconds(60));
        Verdict verdict = GuestPattern.check(guest.image("vda"), 0, 8);
        assertThat(verdict.consistent() && verdict.patterned() == 128).as("data: " + verdict).isTrue();
        assertThat(Trees.snapshot(backups.resolve(guest.name))).as("nothing left in the backup folder").isEmpty();
    }
}
