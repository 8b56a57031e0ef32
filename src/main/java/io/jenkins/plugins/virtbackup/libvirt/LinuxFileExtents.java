package io.jenkins.plugins.virtbackup.libvirt;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import io.jenkins.plugins.virtbackup.engine.copy.FileExtents;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Asks Linux where a file holds data: {@code lseek(2)} with {@code SEEK_DATA} and {@code SEEK_HOLE},
 * through JNA, since Java has no call for it. Every Linux file system answers; one that does not
 * track holes calls the whole file data, and the copy then finds zeros by reading them.
 */
public final class LinuxFileExtents implements FileExtents {
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    /** lseek's answer when no data follows the offset, or the offset is past the end. */
    private static final int ENXIO = 6;

    @Override
    public Probe open(Path file) throws IOException {
        int fd;
        try {
            fd = Libc.open(file.toString(), O_RDONLY | O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("cannot open " + file + " to find its data: errno " + e.getErrorCode());
        }
        return new OpenFile(file, fd);
    }

    private static final class OpenFile implements Probe {
        private final Path file;
        private final int fd;
        private boolean closed;

        OpenFile(Path file, int fd) {
            this.file = file;
            this.fd = fd;
        }

        @Override
        public synchronized long nextData(long from) throws IOException {
            return seek(from, SEEK_DATA, -1);
        }

        @Override
        public synchronized long nextHole(long from) throws IOException {
            return seek(from, SEEK_HOLE, from);
        }

        private long seek(long from, int whence, long atEnd) throws IOException {
            if (closed) {
                throw new IOException(file + " is closed");
            }
            try {
                return Libc.lseek(fd, from, whence);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == ENXIO) {
                    return atEnd;
                }
                throw new IOException("cannot find the data of " + file + ": errno " + e.getErrorCode());
            }
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                Libc.close(fd);
            }
        }
    }

    private static final class Libc {
        static {
            Native.register("c");
        }

        static native int open(String path, int flags) throws LastErrorException;

        static native long lseek(int fd, long offset, int whence) throws LastErrorException;

        static native int close(int fd);
    }
}
