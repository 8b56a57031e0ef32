package io.jenkins.plugins.virtbackup.engine.copy;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A file or block device as a {@link BlockSource}. A regular file's extents come from its file
 * system ({@link FileExtents}); a block device is all data, its zeros found by reading.
 *
 * <p>A copy reads through the page cache, as {@code cp} and {@code qemu-img} do, with the kernel's
 * read-ahead. A verification opens with {@code direct} so that it reads what reached the disk, not
 * what the cache still holds: with {@code O_DIRECT} where the file system allows it and the read is
 * aligned; any other read, and every read after the kernel refused one, goes through the cache.
 */
public final class FileSource implements BlockSource {
    private final Path file;
    private final FileChannel cached;
    /** The same file opened with O_DIRECT, or null. */
    private final FileChannel direct;
    private final long alignment;
    private final FileExtents.Probe probe;
    private final long size;
    private volatile boolean readsDirect;

    private FileSource(Path file, FileChannel cached, FileChannel direct, long alignment, FileExtents.Probe probe,
                       long size) {
        this.file = file;
        this.cached = cached;
        this.direct = direct;
        this.alignment = alignment;
        this.probe = probe;
        this.size = size;
        this.readsDirect = direct != null;
    }

    /** Opens {@code file} for a copy, through the page cache. */
    public static FileSource open(Path file, FileExtents extents) throws IOException {
        return open(file, extents, false, ReadAlignment.OF_FILE_SYSTEM);
    }

    /** Opens {@code file} to check what reached the disk: direct reads where allowed. */
    public static FileSource openDirect(Path file, FileExtents extents) throws IOException {
        return open(file, extents, true, ReadAlignment.OF_FILE_SYSTEM);
    }

    static FileSource open(Path file, FileExtents extents, boolean tryDirect, ReadAlignment alignments)
            throws IOException {
        FileChannel cached = FileChannel.open(file, StandardOpenOption.READ);
        FileChannel direct = null;
        FileExtents.Probe probe = null;
        try {
            long alignment = tryDirect ? usableAlignment(file, alignments) : 0;
            if (alignment > 0) {
                direct = openDirect(file);
            }
            probe = (Files.isRegularFile(file) ? extents : FileExtents.ALL_DATA).open(file);
            return new FileSource(file, cached, direct, alignment, probe, cached.size());
        } catch (IOException | RuntimeException e) {
            closeAfterFailure(e, cached, direct, probe);
            throw e;
        }
    }

    /** Where direct reads of a file must be aligned: a seam, so tests can choose a wrong alignment. */
    @FunctionalInterface
    public interface ReadAlignment {
        /**
         * Java checks direct reads against the file system's fragment size, the kernel against the
         * device's logical block size: 4 KiB covers that on usual hardware, and where it does not,
         * the kernel refuses the first read and the source reads on through the cache.
         */
        ReadAlignment OF_FILE_SYSTEM = file -> Math.max(4096, Files.getFileStore(file).getBlockSize());

        long of(Path file) throws IOException;
    }

    private static long usableAlignment(Path file, ReadAlignment alignments) {
        try {
            long alignment = alignments.of(file);
            return alignment > 0 && Long.bitCount(alignment) == 1 ? alignment : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static FileChannel openDirect(Path file) {
        try {
            return FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
        } catch (IOException | UnsupportedOperationException e) {
            return null;  // refused (EINVAL, squashfs): read through the cache
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public String name() {
        return file.toString();
    }

    /** Whether the next aligned read bypasses the page cache. */
    boolean readsDirect() {
        return readsDirect;
    }

    @Override
    public synchronized List<Extent> extents(long from, long to) throws IOException {
        List<Extent> extents = new ArrayList<>();
        long at = from;
        long end = Math.min(to, size);
        while (at < end) {
            long data = probe.nextData(at);
            if (data < 0 || data >= end) {
                extents.add(new Extent(at, end - at, false));
                break;
            }
            if (data > at) {
                extents.add(new Extent(at, data - at, false));
            }
            long hole = Math.min(end, Math.max(probe.nextHole(data), data + 1));
            extents.add(new Extent(data, hole - data, true));
            at = hole;
        }
        return extents;
    }

    /**
     * Fails when the source's size differs from the size it had when opened: a copy of a file that
     * changed length is not a copy of anything. A source that shrinks already fails its reads.
     */
    public void checkSizeUnchanged() throws IOException {
        long now = cached.size();
        if (now != size) {
            throw new IOException(file + " changed size while it was read: " + size + " bytes when opened, " + now
                    + " bytes now");
        }
    }

    @Override
    public void read(ByteBuffer into, long position) throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int read = readSome(into, at);
            if (read < 0) {
                throw new IOException(file + " changed size while it was read: " + size + " bytes when opened, "
                        + at + " bytes found");
            }
            at += read;
        }
    }

    private int readSome(ByteBuffer into, long position) throws IOException {
        if (readsDirect && aligned(into, position)) {
            try {
                return direct.read(into, position);
            } catch (ClosedChannelException e) {
                throw e;  // interrupted or closed: no other way of reading would do better
            } catch (IOException e) {
                // EINVAL from the kernel, or Java's own alignment check: the cache has no such rule.
                readsDirect = false;
            }
        }
        return cached.read(into, position);
    }

    private boolean aligned(ByteBuffer into, long position) {
        return into.isDirect() && position % alignment == 0 && into.remaining() % alignment == 0
                && alignment <= Integer.MAX_VALUE && into.alignmentOffset(into.position(), (int) alignment) == 0;
    }

    @Override
    public void close() throws IOException {
        try (FileChannel first = cached; FileChannel second = direct; FileExtents.Probe third = probe) {
            // closes all three, the later ones even if closing an earlier one fails
        }
    }

    /** Closes what was opened before {@code failure}, keeping {@code failure} the exception thrown. */
    static void closeAfterFailure(Throwable failure, AutoCloseable... opened) {
        for (AutoCloseable resource : opened) {
            if (resource == null) {
                continue;
            }
            try {
                resource.close();
            } catch (Exception e) {
                failure.addSuppressed(e);
            }
        }
    }
}
