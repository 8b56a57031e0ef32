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
import java.util.function.UnaryOperator;

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
 *
 * <p>Compressed ({@code --compress}), each image is written by QEMU instead, as a qcow2 whatever
 * its format, holding its own clusters zstd-compressed over the copy below it: the images are
 * written from the bottom up, since QEMU checks the backing file it writes into each header. The
 * copier then indexes each file as written, like the files of live mode.
 */
public final class ChainCopy {
    private final DiskCopier copier;
    private final BackupLog log;
    private final Qcow2Writer compressor;

    public ChainCopy(DiskCopier copier, BackupLog log) {
        this(copier, log, null);
    }

    /** @param compressor null to copy the images as they are, else a writer that compresses */
    public ChainCopy(DiskCopier copier, BackupLog log, Qcow2Writer compressor) {
        this.copier = copier;
        this.log = log;
        this.compressor = compressor;
    }

    /** The name of the copy of the image at {@code level} (0 = top) of disk {@code target}'s chain. */
    static String fileName(String target, int level, String format) {
        return level == 0 ? target + "." + format : target + ".backing-" + level + "." + format;
    }

    public List<BackedUpFile> copy(Disk disk, BackingChain chain, BackupDirectory directory) throws IOException {
        return copy(disk, chain, directory, UnaryOperator.identity());
    }

    /**
     * As {@link #copy(Disk, BackingChain, BackupDirectory)}, reading each image from
     * {@code readFrom(image)} (a snapshot of it), while the manifest names the image itself.
     * Compressed, QEMU opens the image and follows its header to the images below: there every
     * image must be read where it is.
     */
    public List<BackedUpFile> copy(Disk disk, BackingChain chain, BackupDirectory directory,
                                   UnaryOperator<Path> readFrom) throws IOException {
        if (compressor != null) {
            return copyCompressed(disk, chain, directory, readFrom);
        }
        List<BackedUpFile> files = new ArrayList<>();
        List<BackingChain.Image> images = chain.images();
        for (int level = 0; level < images.size(); level++) {
            BackingChain.Image image = images.get(level);
            String name = fileName(disk.target(), level, image.format());
            String below = level + 1 < images.size()
                    ? fileName(disk.target(), level + 1, images.get(level + 1).format()) : null;
            files.add(copyImage(disk, image, readFrom.apply(image.path()), name, below, level, directory));
        }
        return files;
    }

    private BackedUpFile copyImage(Disk disk, BackingChain.Image image, Path source, String name, String below,
                                   int level, BackupDirectory directory) throws IOException {
        Path target = directory.file(name);
        String what = level == 0 ? "disk " + disk.target() : "disk " + disk.target() + " backing image " + level;
        log.detail("copying " + what + " from " + source + " to " + target
                + (below == null ? "" : " (backing file renamed to " + below + ")"));
        ChunkPipeline.FirstChunk rename = below == null ? null : renameBacking(source, below);
        long started = System.nanoTime();
        FileDigest digest = copier.copy(source, target, new Progress(log, what), rename);
        double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
        log.detail(String.format(Locale.ROOT, "copied %s: %s in %.1f s (%.0f MiB/s), %d of %d chunks hold data",
                what, Sizes.human(digest.size()), seconds, digest.size() / seconds / (1 << 20),
                digest.chunks().dataChunks(), digest.chunks().chunks()));
        return new BackedUpFile(name, level == 0 ? BackedUpFile.DISK : BackedUpFile.BACKING, digest, disk.target(),
                image.path().toString(), image.format(), below);
    }

    /** Each image as a compressed qcow2 over the copy below it, the bottom one first; listed top first. */
    private List<BackedUpFile> copyCompressed(Disk disk, BackingChain chain, BackupDirectory directory,
                                              UnaryOperator<Path> readFrom) throws IOException {
        List<BackedUpFile> files = new ArrayList<>();
        List<BackingChain.Image> images = chain.images();
        if (chain.hasBacking() && images.stream().anyMatch(i -> !readFrom.apply(i.path()).equals(i.path()))) {
            throw new IOException("a compressed copy of disk " + disk.target() + " would read its backing images "
                    + "where they are, not from their snapshots");
        }
        for (int level = images.size() - 1; level >= 0; level--) {
            String name = fileName(disk.target(), level, "qcow2");
            String below = level + 1 < images.size() ? fileName(disk.target(), level + 1, "qcow2") : null;
            files.add(0, compressImage(disk, images.get(level), readFrom.apply(images.get(level).path()), name, below,
                    level, directory));
        }
        return files;
    }

    private BackedUpFile compressImage(Disk disk, BackingChain.Image image, Path source, String name, String below,
                                       int level, BackupDirectory directory) throws IOException {
        Path target = directory.file(name);
        String what = level == 0 ? "disk " + disk.target() : "disk " + disk.target() + " backing image " + level;
        log.detail("copying " + what + " from " + source + " to " + target + ", " + compressor.compression()
                + "-compressed" + (below == null ? "" : " over " + below));
        Progress progress = new Progress(log, what);
        long started = System.nanoTime();
        compressor.copyImage(source, image.format(), target, below, copier.cancelled(),
                percent -> progress.update(percent, 100));
        progress.done();
        FileDigest digest = copier.index(target);
        double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
        log.detail(String.format(Locale.ROOT, "copied %s: a %s-compressed qcow2 of %s in %.1f s", what,
                compressor.compression(), Sizes.human(digest.size()), seconds));
        return new BackedUpFile(name, level == 0 ? BackedUpFile.DISK : BackedUpFile.BACKING, digest, disk.target(),
                image.path().toString(), "qcow2", below, compressor.compression());
    }

    /** Rewrites the backing file name in the copy's header, before the block is written and hashed. */
    private static ChunkPipeline.FirstChunk renameBacking(Path image, String below) throws IOException {
        Qcow2Header header = Qcow2Header.read(image);
        return block -> header.pointBackingAt(block, below);
    }
}
