package io.jenkins.plugins.virtbackup.libvirt;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Structure;
import io.jenkins.plugins.virtbackup.engine.log.Severity;
import io.jenkins.plugins.virtbackup.engine.log.SyslogSink;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Sends messages to the system log the way syslog(3) does: one datagram per message, in the
 * traditional format, to the log socket ({@code /dev/log}). Written against libc through JNA rather
 * than calling syslog(3) itself so the socket can be pointed elsewhere ({@link #SOCKET_ENV}), which
 * lets tests prove that messages arrive without touching the machine's log. Like syslog(3), it
 * drops messages silently when no log daemon listens.
 */
public final class NativeSyslog implements SyslogSink {
    /** Environment variable naming another log socket than {@code /dev/log}. */
    public static final String SOCKET_ENV = "VIRT_BACKUP_SYSLOG_SOCKET";
    private static final String DEFAULT_SOCKET = "/dev/log";
    private static final int LOG_USER = 1 << 3;
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss", Locale.ROOT);

    private final String socketPath;
    private final String tag;

    private NativeSyslog(String socketPath, String tag) {
        this.socketPath = socketPath;
        this.tag = tag;
    }

    /** The system log, or the socket named by {@value #SOCKET_ENV}. */
    public static NativeSyslog forThisProcess() {
        String path = System.getenv(SOCKET_ENV);
        return new NativeSyslog(path == null || path.isEmpty() ? DEFAULT_SOCKET : path,
                "virt-backup[" + ProcessHandle.current().pid() + "]");
    }

    @Override
    public void send(Severity severity, String message) {
        String line = "<" + (LOG_USER | severity.syslogPriority()) + ">" + STAMP.format(LocalDateTime.now())
                + " " + tag + ": " + message.replace('\n', ' ');
        byte[] datagram = line.getBytes(StandardCharsets.UTF_8);
        int fd;
        try {
            fd = Libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        } catch (LastErrorException e) {
            return;
        }
        try {
            SockaddrUn address = new SockaddrUn(socketPath);
            Libc.sendto(fd, datagram, datagram.length, 0, address, address.size());
        } catch (LastErrorException | IllegalArgumentException e) {
            // No log daemon, or a socket path too long: lost, as syslog(3) would lose it.
        } finally {
            Libc.close(fd);
        }
    }

    /** {@code struct sockaddr_un} on Linux. */
    @Structure.FieldOrder({"sun_family", "sun_path"})
    public static final class SockaddrUn extends Structure {
        public short sun_family = AF_UNIX;
        public byte[] sun_path = new byte[108];

        SockaddrUn(String path) {
            byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
            if (bytes.length >= sun_path.length) {
                throw new IllegalArgumentException("socket path too long: " + path);
            }
            System.arraycopy(bytes, 0, sun_path, 0, bytes.length);
            write();
        }
    }

    private static final class Libc {
        static {
            Native.register("c");
        }

        static native int socket(int domain, int type, int protocol) throws LastErrorException;

        static native long sendto(int fd, byte[] buffer, long length, int flags, SockaddrUn address, int addressLength)
                throws LastErrorException;

        static native int close(int fd);
    }
}
