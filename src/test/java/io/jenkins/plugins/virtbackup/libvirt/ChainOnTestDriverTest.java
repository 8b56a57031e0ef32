package io.jenkins.plugins.virtbackup.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.BackupRequest;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import io.jenkins.plugins.virtbackup.engine.store.BackupVerifier;
import io.jenkins.plugins.virtbackup.engine.store.Json;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.TestEngines;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A linked clone on the test driver, through the whole engine: the backup holds the chain and verifies. */
class ChainOnTestDriverTest {
    @TempDir
    Path dir;

    private LibvirtHypervisor hypervisor;

    /** A running domain whose disk is a qcow2 clone of a raw template, or of an image named {@code backing}. */
    private String node(String backing) throws Exception {
        TestDriverNode node = new TestDriverNode(dir.resolve("images"));
        Path template = node.rawImage("template.raw", 16 << 20, 1 << 20, 5);
        Path clone = dir.resolve("images/clone.qcow2");
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", template.toString(), clone.toString());
        Host.run("qemu-io", "-f", "qcow2", "-c", "write -P 0x77 4M 1M", clone.toString());
        if (backing != null) {
            // Unsafe rebase: only the header changes, nothing opens the new backing file.
            Host.run("qemu-img", "rebase", "-q", "-u", "-F", "raw", "-b", backing, clone.toString());
        }
        return node.domain("clone", RunState.RUNNING, true, TestDriverNode.fileDisk("vda", clone, "qcow2")).write();
    }

    private Manifest backUp(String uri) throws Exception {
        hypervisor = LibvirtHypervisor.connect(uri, report -> { });
        try (BackupLog log = new BackupLog(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                false, SyslogSink.NONE)) {
            return TestEngines.of(hypervisor, log, new StateDirectory(dir.resolve("state"))).run(new BackupRequest(
                    "clone", List.of(), BackupMode.SUSPEND, dir.resolve("backups"), Duration.ofSeconds(5), false, false)).manifest();
        }
    }

    @Test
    void aLinkedCloneIsBackedUpWithItsTemplateAndVerifies() throws Exception {
        try {
            Manifest manifest = backUp(node(null));

            assertThat(manifest.files()).extracting(BackedUpFile::name)
                    .containsExactly("domain.xml", "vda.qcow2", "vda.backing-1.raw", "memory.state");
            assertThat(manifest.chains().get("vda").images()).hasSize(2);
            Path backup = dir.resolve("backups/clone").toFile().listFiles()[0].toPath();
            @SuppressWarnings("unchecked")
            Map<String, Object> json = (Map<String, Object>) Json.parse(Files.readString(backup.resolve("manifest.json")));
            assertThat(json.get("sourceChains").toString()).contains("template.raw").contains("clone.qcow2");
            assertThat(json).containsEntry("downtimeMeasuredBy", "host");
            try (BackupLog log = new BackupLog(new PrintStream(new ByteArrayOutputStream(), true,
                    StandardCharsets.UTF_8), false, SyslogSink.NONE)) {
                assertThat(new BackupVerifier(log, new LinuxFileExtents()).verify(backup)).isEqualTo(ExitStatus.OK);
            }
            assertThat(hypervisor.lookup("clone").state()).isEqualTo(DomainState.RUNNING);
        } finally {
            if (hypervisor != null) {
                hypervisor.close();
            }
        }
    }

    @Test
    void aCloneOfAnImageOnAnotherHostIsRefusedBeforeAnythingIsTouched() throws Exception {
        try {
            String uri = node("nbd://127.0.0.1:1/template");

            assertThatThrownBy(() -> backUp(uri)).isInstanceOfSatisfying(BackupException.class, e -> {
                assertThat(e.status()).isEqualTo(ExitStatus.USAGE);
                assertThat(e.getMessage()).startsWith("disk vda cannot be backed up: its backing chain reaches "
                        + "'nbd://127.0.0.1:1/template'");
            });
            assertThat(dir.resolve("backups")).doesNotExist();
            assertThat(hypervisor.lookup("clone").state()).isEqualTo(DomainState.RUNNING);
        } finally {
            if (hypervisor != null) {
                hypervisor.close();
            }
        }
    }
}
