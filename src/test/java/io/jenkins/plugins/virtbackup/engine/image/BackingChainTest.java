package io.jenkins.plugins.virtbackup.engine.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.copy.ChainCopy;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkCheck;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkPipeline;
import io.jenkins.plugins.virtbackup.engine.copy.DiskCopier;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image chains as qemu-img makes them (a template, a linked clone, a snapshot on top), read from
 * their headers and copied into a backup that QEMU's own tools then read without the originals.
 */
class BackingChainTest {
    @TempDir
    Path dir;

    /** base.raw <- template.qcow2 <- clone.qcow2, the clone naming its template by a relative path. */
    private Path threeImageChain() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path templates = Files.createDirectories(dir.resolve("templates"));
        Host.run("qemu-img", "create", "-q", "-f", "raw", templates.resolve("base.raw").toString(), "16M");
        Host.run("qemu-io", "-f", "raw", "-c", "write -P 0x11 0 4M", templates.resolve("base.raw").toString());
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", templates.resolve("base.raw").toString(),
                templates.resolve("template.qcow2").toString());
        Host.run("qemu-io", "-f", "qcow2", "-c", "write -P 0x22 2M 4M", templates.resolve("template.qcow2").toString());
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "../templates/template.qcow2",
                images.resolve("clone.qcow2").toString());
        Host.run("qemu-io", "-f", "qcow2", "-c", "write -P 0x33 5M 2M", images.resolve("clone.qcow2").toString());
        return images.resolve("clone.qcow2");
    }

    @Test
    void followsAChainThroughRelativeNamesDownToARawBase() throws Exception {
        Path clone = threeImageChain();

        BackingChain chain = BackingChain.of("vda", clone, "qcow2");

        assertThat(chain.images()).extracting(BackingChain.Image::format).containsExactly("qcow2", "qcow2", "raw");
        assertThat(chain.images().get(1).path().normalize()).isEqualTo(dir.resolve("templates/template.qcow2"));
        assertThat(chain.images().get(0).backing()).isEqualTo("../templates/template.qcow2");
        assertThat(chain.images().get(2).path()).isEqualTo(dir.resolve("templates/base.raw"));
        assertThat(chain.hasBacking()).isTrue();
        assertThat(BackingChain.of("vdb", dir.resolve("templates/base.raw"), "raw").hasBacking()).isFalse();
    }

    @Test
    void probesTheFormatOfABackingFileTheImageDoesNotName() throws Exception {
        Path base = dir.resolve("base.qcow2");
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "8M");
        Path top = dir.resolve("top.qcow2");
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base.toString(), top.toString());
        forgetBackingFormat(top);  // as images made before QEMU required -F: the format is probed
        assertThat(Host.run("qemu-img", "info", "--output=json", top.toString())).doesNotContain("backing-filename-format");

        assertThat(BackingChain.of("vda", top, "qcow2").images()).extracting(BackingChain.Image::format)
                .containsExactly("qcow2", "qcow2");
    }

    /** Turns the backing format header extension into one of a type QEMU ignores. */
    private static void forgetBackingFormat(Path image) throws Exception {
        try (java.nio.channels.FileChannel file = java.nio.channels.FileChannel.open(image,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(4096);
            file.read(header, 0);
            int at = header.getInt(100);  // header_length (version 3): the extensions follow
            while (header.getInt(at) != 0xe2792aca) {
                assertThat(header.getInt(at)).as("extension type at " + at).isNotZero();
                at += 8 + ((header.getInt(at + 4) + 7) & ~7);
            }
            file.write(java.nio.ByteBuffer.allocate(4).putInt(0, 0x7fff0001), at);
        }
    }

    @Test
    void refusesAChainThatLeavesTheHost() throws Exception {
        Path top = dir.resolve("top.qcow2");
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", "-u", "-F", "raw", "-b", "nbd://127.0.0.1:1/base",
                top.toString(), "8M");

        assertThatThrownBy(() -> BackingChain.of("vda", top, "qcow2")).isInstanceOfSatisfying(BackupException.class,
                e -> {
                    assertThat(e.status()).isEqualTo(ExitStatus.USAGE);
                    assertThat(e.getMessage()).isEqualTo("disk vda cannot be backed up: its backing chain reaches "
                            + "'nbd://127.0.0.1:1/base' (below " + top + "), which is not a local file or block device");
                });
    }

    @Test
    void refusesAChainThatLoopsAndOneWhoseImageIsGone() throws Exception {
        Path a = dir.resolve("a.qcow2");
        Path b = dir.resolve("b.qcow2");
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", "-u", "-F", "qcow2", "-b", "b.qcow2", a.toString(), "8M");
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", "-u", "-F", "qcow2", "-b", "a.qcow2", b.toString(), "8M");
        Path orphan = dir.resolve("orphan.qcow2");
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", "-u", "-F", "qcow2", "-b", "gone.qcow2", orphan.toString(),
                "8M");

        assertThatThrownBy(() -> BackingChain.of("vda", a, "qcow2")).isInstanceOfSatisfying(BackupException.class,
                e -> assertThat(e.getMessage()).contains("loops back to").contains("a.qcow2"));
        assertThatThrownBy(() -> BackingChain.of("vda", orphan, "qcow2")).isInstanceOfSatisfying(BackupException.class,
                e -> assertThat(e.getMessage()).contains("gone.qcow2").contains("does not exist"));
    }

    @Test
    void refusesAnImageWithAnExternalDataFile() throws Exception {
        Path image = dir.resolve("meta.qcow2");
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "data_file=" + dir.resolve("data.raw"),
                image.toString(), "8M");

        assertThatThrownBy(() -> BackingChain.of("vda", image, "qcow2")).isInstanceOfSatisfying(BackupException.class,
                e -> assertThat(e.getMessage()).contains("external data file"));
    }

    @Test
    void aCopiedChainReadsAloneWithQemuImgOnceTheOriginalsAreGone() throws Exception {
        Path clone = threeImageChain();
        Path expected = dir.resolve("expected.raw");
        Host.run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", clone.toString(), expected.toString());
        BackingChain chain = BackingChain.of("vda", clone, "qcow2");
        BackupDirectory backup = BackupDirectory.create(dir.resolve("backups"), "web", Instant.now());
        Disk disk = new Disk("vda", "disk", "file", clone.toString(), "qcow2", false, false);

        List<BackedUpFile> files;
        try (BackupLog log = new BackupLog(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                false, SyslogSink.NONE)) {
            files = new ChainCopy(new DiskCopier(() -> false, new LinuxFileExtents(), BackupDirectory.FILE_MODE), log).copy(disk, chain, backup);
        }
        // The originals move away: the backup must not need them.
        Host.run("mv", dir.resolve("templates").toString(), dir.resolve("templates-gone").toString());
        Host.run("mv", clone.toString(), dir.resolve("clone-gone.qcow2").toString());

        assertThat(files).extracting(BackedUpFile::name)
                .containsExactly("vda.qcow2", "vda.backing-1.qcow2", "vda.backing-2.raw");
        assertThat(files).extracting(BackedUpFile::kind).containsExactly("disk", "backing", "backing");
        assertThat(files).extracting(BackedUpFile::backing)
                .containsExactly("vda.backing-1.qcow2", "vda.backing-2.raw", null);
        Path top = backup.file("vda.qcow2");
        assertThat(Host.run("qemu-img", "info", "--backing-chain", top.toString()))
                .contains("backing file: vda.backing-1.qcow2").contains("backing file: vda.backing-2.raw")
                .doesNotContain("templates");
        Path restored = dir.resolve("restored.raw");
        Host.run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", top.toString(), restored.toString());
        assertThat(Trees.sha256(restored)).isEqualTo(Trees.sha256(expected));
        Host.run("qemu-img", "check", top.toString());
        ChunkCheck check = new ChunkCheck(new ChunkPipeline(() -> false), new LinuxFileExtents());
        for (BackedUpFile file : files) {
            assertThat(check.check(backup.partialPath(), file.name(), file.digest().size(), file.digest().chunks()))
                    .as("the chunk index of the copy, with its backing name rewritten").isEmpty();
        }
    }

    @Test
    void aNameLongerThanTheOriginalStillFitsTheHeaderCluster() throws Exception {
        Path base = dir.resolve("b.raw");
        Host.run("qemu-img", "create", "-q", "-f", "raw", base.toString(), "4M");
        Host.run("qemu-io", "-f", "raw", "-c", "write -P 0x44 0 1M", base.toString());
        Path top = dir.resolve("t.qcow2");
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "b.raw", top.toString());
        BackupDirectory backup = BackupDirectory.create(dir.resolve("backups"), "web", Instant.now());
        Disk disk = new Disk("a-rather-long-disk-target-name", "disk", "file", top.toString(), "qcow2", false, false);

        try (BackupLog log = new BackupLog(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                false, SyslogSink.NONE)) {
            new ChainCopy(new DiskCopier(() -> false, new LinuxFileExtents(), BackupDirectory.FILE_MODE), log).copy(disk, BackingChain.of(disk.target(), top, "qcow2"),
                    backup);
        }

        Path copy = backup.file("a-rather-long-disk-target-name.qcow2");
        assertThat(Host.run("qemu-img", "info", copy.toString()))
                .contains("backing file: a-rather-long-disk-target-name.backing-1.raw");
        Files.delete(base);
        Path restored = dir.resolve("restored.raw");
        Host.run("qemu-img", "convert", "-O", "raw", copy.toString(), restored.toString());
        assertThat(Trees.sha256(restored)).isEqualTo(Trees.sha256(backup.file(
                "a-rather-long-disk-target-name.backing-1.raw")));
    }
}
