package io.jenkins.plugins.virtbackup.libvirt;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A log socket of the test's own, bound where {@code VIRT_BACKUP_SYSLOG_SOCKET} points the program
 * under test: the datagrams queue in the kernel until {@link #drain} reads them.
 */
public final class SyslogListener implements AutoCloseable {
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int MSG_DONTWAIT = 0x40;

    private final Path path;
    private final int fd;

    public SyslogListener(Path path) {
        this.path = path;
        this.fd = Libc.socket(AF_UNIX, SOCK_DGRAM, 0);
        NativeSyslog.SockaddrUn address = new NativeSyslog.SockaddrUn(path.toString());
        Libc.bind(fd, address, address.size());
    }

    public Path path() {
        return path;
    }

    /** Every datagram received so far, as text, in order. */
    public List<String> drain() {
        List<String> messages = new ArrayList<>();
        byte[] buffer = new byte[8192];
        while (true) {
            try {
                long n = Libc.recv(fd, buffer, buffer.length, MSG_DONTWAIT);
                messages.add(new String(buffer, 0, (int) n, StandardCharsets.UTF_8));
            } catch (LastErrorException e) {
                return messages;  // EAGAIN: nothing more queued
            }
        }
    }

    @Override
    public void close() throws Exception {
        Libc.close(fd);
        Files.deleteIfExists(path);
    }

    private static final class Libc {
        static {
            Native.register("c");
        }

        static native int socket(int domain, int type, int protocol) throws LastErrorException;

        static native int bind(int fd, NativeSyslog.SockaddrUn address, int length) throws LastErrorException;

        static native long recv(int fd, byte[] buffer, long length, int flags) throws LastErrorException;

        static native int close(int fd);
    }
}
