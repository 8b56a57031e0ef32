package io.jenkins.plugins.virtbackup.engine.copy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where a file holds data, as its file system tells ({@code lseek} with {@code SEEK_DATA} and
 * {@code SEEK_HOLE}). A seam: plain Java cannot ask, so the native code lives with the libvirt
 * adapter ({@code libvirt.LinuxFileExtents}), and {@link #ALL_DATA} serves where nobody can.
 */
@FunctionalInterface
public interface FileExtents {
    /** Opens {@code file} for questions about its extents. */
    Probe open(Path file) throws IOException;

    /** Questions about one open file. Offsets at or past its size have no data. */
    interface Probe extends AutoCloseable {
        /** The first offset at or after {@code from} that holds data, or -1 when only holes follow. */
        long nextData(long from) throws IOException;

        /** The first offset at or after {@code from} inside a hole; the file's end counts as one. */
        long nextHole(long from) throws IOException;

        @Override
        void close() throws IOException;
    }

    /**
     * Every byte is data: for block devices, which have no holes, and where the file system cannot
     * be asked. Zeros are then found by reading them.
     */
    FileExtents ALL_DATA = file -> {
        long size;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            size = channel.size();  // a block device's size; Files.size says 0 for one (st_size)
        }
        return new Probe() {
            @Override
            public long nextData(long from) {
                return from < size ? from : -1;
            }

            @Override
            public long nextHole(long from) {
                return Math.max(from, size);
            }

            @Override
            public void close() {
                // nothing was opened
            }
        };
    };
}
