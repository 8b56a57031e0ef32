package io.jenkins.plugins.virtbackup.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.copy.ChainCopy;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkCheck;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkPipeline;
import io.jenkins.plugins.virtbackup.engine.copy.DiskCopier;
import io.jenkins.plugins.virtbackup.engine.copy.Qcow2Writer;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.HostRequirement;
import io.jenkins.plugins.virtbackup.testing.QemuImages;
import io.jenkins.plugins.virtbackup.testing.SparseFile;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The copy path of the offline modes with {@code --compress}: every image of a disk's chain written
 * by QEMU as a qcow2 with zstd-compressed clusters, over the copy below it, reading back exactly as
 * the source chain does once the originals are gone, its chunk indexes those of the files as written.
 */
class CompressedChainCopyTest {
    private static final int MIB = 1 << 20;
    private static final int CLUSTER = 64 << 10;

    @TempDir
    Path dir;

    @BeforeEach
    void qemuToolsPresent() {
        HostRequirement.requireQemuToolsAndLibnbd();
    }

    /**
     * A raw template holding 4 MiB, half of it text; a qcow2 over it that overwrites 1 MiB with a
     * repeated byte; a qcow2 clone over that writing 512 KiB of text and zeroing a cluster of the
     * template's data, which the copy must keep hiding.
     */
    private Path threeImageChain() throws IOException {
        Path templates = Files.createDirectory(dir.resolve("templates"));
        Path base = SparseFile.create(templates.resolve("base.raw"), 16L * MIB).halfCompressible(0, 4 * MIB)
                .random(12L * MIB, CLUSTER).synced();
        Path middle = templates.resolve("middle.qcow2");
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "base.raw", middle.toString());
        Host.run("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 1M 1M", middle.toString());
        Path clone = dir.resolve("clone.qcow2");
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", middle.toString(), clone.toString());
        Path text = SparseFile.create(dir.resolve("text.raw"), 512 * 1024)
                .write(0, SparseFile.textBytes(512 * 1024, 7)).synced();
        Host.run("qemu-io", "-f", "qcow2", "-c", "write -z 128k 64k", "-c", "write -s " + text + " 8M 512k",
                clone.toString());
        return clone;
    }

    private List<BackedUpFile> copy(Path clone, BackupDirectory backup) throws Exception {
        Disk disk = new Disk("vda", "disk", "file", clone.toString(), "qcow2", false, false);
        Qcow2Writer compressing = new QemuNbdWriter(BackupDirectory.FILE_MODE, (tool, text) -> { }).compressed();
        try (BackupLog log = new BackupLog(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                false, SyslogSink.NONE)) {
            DiskCopier copier = new DiskCopier(() -> false, new LinuxFileExtents(), BackupDirectory.FILE_MODE);
            return new ChainCopy(copier, log, compressing).copy(disk, BackingChain.of("vda", clone, "qcow2"), backup);
        }
    }

    @Test
    void everyImageBecomesACompressedQcow2OverTheCopyBelowAndTheChainReadsAsTheSource() throws Exception {
        Path clone = threeImageChain();
        Path expected = dir.resolve("expected.raw");
        Host.run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", clone.toString(), expected.toString());
        BackupDirectory backup = BackupDirectory.create(dir.resolve("backups"), "web", Instant.now());

        List<BackedUpFile> files = copy(clone, backup);
        Host.run("mv", dir.resolve("templates").toString(), dir.resolve("templates-gone").toString());
        Host.run("mv", clone.toString(), dir.resolve("clone-gone.qcow2").toString());

        assertThat(files).extracting(BackedUpFile::name)
                .containsExactly("vda.qcow2", "vda.backing-1.qcow2", "vda.backing-2.qcow2");
        assertThat(files).extracting(BackedUpFile::format).containsOnly("qcow2");
        assertThat(files).extracting(BackedUpFile::compression).containsOnly("zstd");
        assertThat(files).extracting(BackedUpFile::backing)
                .containsExactly("vda.backing-1.qcow2", "vda.backing-2.qcow2", null);
        assertThat(files).extracting(BackedUpFile::source).containsExactly(dir.resolve("clone.qcow2").toString(),
                dir.resolve("templates/middle.qcow2").toString(), dir.resolve("templates/base.raw").toString());
        Path top = backup.file("vda.qcow2");
        Path middle = backup.file("vda.backing-1.qcow2");
        Path base = backup.file("vda.backing-2.qcow2");
        for (Path image : List.of(top, middle, base)) {
            assertThat(QemuImages.compressionType(image)).as(image.getFileName().toString()).isEqualTo("zstd");
        }
        assertThat(QemuImages.backingFile(top)).isEqualTo("vda.backing-1.qcow2");
        assertThat(QemuImages.backingFile(middle)).isEqualTo("vda.backing-2.qcow2");
        assertThat(QemuImages.backingFile(base)).isNull();
        // Each copy holds its own image's clusters and nothing below it: the template's 64
        // clusters (32 of text, compressed), the middle's 16 of one byte, the clone's 8 of text.
        assertThat(QemuImages.allocatedClusters(base)).isEqualTo(65);
        assertThat(QemuImages.compressedClusters(base)).isEqualTo(32);
        assertThat(QemuImages.allocatedClusters(middle)).isEqualTo(16);
        assertThat(QemuImages.compressedClusters(middle)).isEqualTo(16);
        assertThat(QemuImages.compressedClusters(top)).isEqualTo(8);
        assertThat(Files.size(middle)).as("1 MiB of one byte, compressed, with its tables").isLessThan(MIB / 2);

        Path restored = dir.resolve("restored.raw");
        Host.run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", top.toString(), restored.toString());
        assertThat(Trees.sha256(restored)).as("the chain read by QEMU, the originals gone")
                .isEqualTo(Trees.sha256(expected));
        ChunkCheck check = new ChunkCheck(new ChunkPipeline(() -> false), new LinuxFileExtents());
        for (BackedUpFile file : files) {
            assertThat(check.check(backup.partialPath(), file.name(), file.digest().size(), file.digest().chunks()))
                    .as("the chunk index of " + file.name() + " as written").isEmpty();
            assertThat(file.digest().size()).isEqualTo(Files.size(backup.file(file.name())));
        }
    }
}
