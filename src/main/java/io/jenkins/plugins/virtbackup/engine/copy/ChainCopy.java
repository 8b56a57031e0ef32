package io.jenkins.plugins.virtbackup.engine.copy;

import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import io.jenkins.plugins.virtbackup.engine.image.Qcow2Header;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Copies a disk's whole image chain into a backup, so that the backup stands alone: the top image
 * as {@code TARGET.FORMAT}, each image below it as {@code TARGET.backing-N.FORMAT}, and every
 * copied qcow2 image pointed at the copy below it by a name relative to its own folder (QEMU
 * resolves it there). {@code qemu-img convert TARGET.qcow2 OUT} then reads the guest's disk from
 * the backup alone, and moving the backup folder keeps it readable.
 *
 * <p>Copying the images as they are, rather than flattening the chain into one image, keeps the
 * data path the engine's own sparse, checksumming copy; docs/architecture.md has the measurements
 * behind that choice.
 */
public final class ChainCopy {
    private final DiskCopier copier;
    private final BackupLog log;

    public ChainCopy(DiskCopier copier, BackupLog log) {
        this.copier = copier;
        this.log = log;
    }

    /** The name of the copy of the image at {@code level} (0 = top) of disk {@code target}'s chain. */
    static String fileName(String target, int level, String format) {
        return level == 0 ? target + "." + format : target + ".backing-" + level + "." + format;
    }

    public List<BackedUpFile> copy(Disk disk, BackingChain chain, BackupDirectory directory) throws IOException {
        List<BackedUpFile> files = new ArrayList<>();
        List<BackingChain.Image> images = chain.images();
        for (int level = 0; level < images.size(); level++) {
            BackingChain.Image image = images.get(level);
            String name = fileName(disk.target(), level, image.format());
            String below = level + 1 < images.size()
                    ? fileName(disk.target(), level + 1, images.get(level + 1).format()) : null;
            files.add(copyImage(disk, image, name, below, level, directory));
        }
        return files;
    }

    private BackedUpFile copyImage(Disk disk, BackingChain.Image image, String name, String below, int level,
                                   BackupDirectory directory) throws IOException {
        Path target = directory.file(name);
        String what = level == 0 ? "disk " + disk.target() : "disk " + disk.target() + " backing image " + level;
        log.detail("copying " + what + " from " + image.path() + " to " + target
                + (below == null ? "" : " (backing file renamed to " + below + ")"));
        ChunkPipeline.FirstChunk rename = below == null ? null : renameBacking(image.path(), below);
        long started = System.nanoTime();
        FileDigest digest = copier.copy(image.path(), target, new Progress(log, what), rename);
        double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
        log.detail(String.format(Locale.ROOT, "copied %s: %s in %.1f s (%.0f MiB/s), %d of %d chunks hold data",
                what, Sizes.human(digest.size()), seconds, digest.size() / seconds / (1 << 20),
                digest.chunks().dataChunks(), digest.chunks().chunks()));
        return new BackedUpFile(name, level == 0 ? BackedUpFile.DISK : BackedUpFile.BACKING, digest, disk.target(),
                image.path().toString(), image.format(), below);
    }

    /** Rewrites the backing file name in the copy's header, before the block is written and hashed. */
    private static ChunkPipeline.FirstChunk renameBacking(Path image, String below) throws IOException {
        Qcow2Header header = Qcow2Header.read(image);
        return block -> header.pointBackingAt(block, below);
    }
}
