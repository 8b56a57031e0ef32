package io.jenkins.plugins.virtbackup.libvirt;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.BackupRequest;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.Severity;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import io.jenkins.plugins.virtbackup.testing.TestEngines;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A test-driver hypervisor with real disk files, connected once, so that a test can run the engine
 * and then ask the same hypervisor what state each domain was left in.
 */
final class TestDriverBed implements AutoCloseable {
    static final long MIB = 1 << 20;
    static final String ODD_NAME = "odd name 'q\" ü";

    final Path images;
    final Path backups;
    final StateDirectory state;
    final String uri;
    final LibvirtHypervisor hypervisor;
    final List<String> errorReports = new ArrayList<>();
    final List<String> syslog = new ArrayList<>();
    final ByteArrayOutputStream console = new ByteArrayOutputStream();

    TestDriverBed(Path dir) throws IOException, HypervisorException {
        images = dir.resolve("images");
        backups = dir.resolve("backups");
        state = new StateDirectory(dir.resolve("state"));
        TestDriverNode node = new TestDriverNode(images);
        Path webRoot = node.rawImage("web-root.raw", 64 * MIB, (int) (2 * MIB), 11);
        Path webData = node.qcow2Image("web-data.qcow2", 32 * MIB, 2);
        uri = node
                .domain("web", RunState.RUNNING, true,
                        TestDriverNode.fileDisk("vda", webRoot, "raw"),
                        TestDriverNode.fileDisk("vdb", webData, "qcow2"),
                        TestDriverNode.emptyCdrom("hdc"),
                        TestDriverNode.networkDisk("vdc"))
                .domain("paused", RunState.PAUSED, true, diskOf(node, "paused"))
                .domain("off", RunState.SHUT_OFF, true, diskOf(node, "off"))
                .domain("transient", RunState.RUNNING, false, diskOf(node, "transient"))
                .domain("diskless", RunState.RUNNING, true)
                .domain(ODD_NAME, RunState.RUNNING, true, diskOf(node, "odd"))
                .write();
        hypervisor = LibvirtHypervisor.connect(uri, errorReports::add);
    }

    private static String diskOf(TestDriverNode node, String name) throws IOException {
        return TestDriverNode.fileDisk("vda", node.rawImage(name + ".raw", 8 * MIB, (int) MIB, name.hashCode()), "raw");
    }

    static BackupRequest request(String domain, BackupMode mode, Path root, String... disks) {
        return new BackupRequest(domain, List.of(disks), mode, root, Duration.ofSeconds(5), false, false);
    }

    Manifest backUp(BackupRequest request) throws BackupException {
        try (BackupLog log = newLog()) {
            return TestEngines.of(hypervisor, log, state).run(request).manifest();
        }
    }

    BackupLog newLog() {
        return new BackupLog(new PrintStream(console, true, StandardCharsets.UTF_8), false,
                (Severity severity, String message) -> syslog.add(severity + " " + message));
    }

    DomainState state(String domain) throws HypervisorException {
        return hypervisor.lookup(domain).state();
    }

    String consoleText() {
        return console.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        hypervisor.close();
    }
}
