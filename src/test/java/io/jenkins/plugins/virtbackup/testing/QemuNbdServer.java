package io.jenkins.plugins.virtbackup.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code qemu-nbd} serving one image read-only, on a unix socket or on 127.0.0.1 only, for
 * as long as the test holds it; {@link #close} kills it, and tests call that in {@code @AfterEach}.
 */
public final class QemuNbdServer implements AutoCloseable {
    public static final String EXPORT = "vda";

    private final Process process;
    private final Path log;

    private QemuNbdServer(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Serves {@code image} as {@value #EXPORT} on {@code socket}; {@code extra} e.g. {@code --bitmap=b0}. */
    public static QemuNbdServer onUnixSocket(Path image, String format, Path socket, String... extra)
            throws IOException {
        List<String> command = command(image, format, extra);
        command.add("--socket=" + socket);
        return start(command, image, UnixDomainSocketAddress.of(socket));
    }

    /** Serves {@code image} as {@value #EXPORT} on 127.0.0.1:{@code port}, never another address. */
    public static QemuNbdServer onLoopback(Path image, String format, int port) throws IOException {
        List<String> command = command(image, format);
        command.add("--bind=127.0.0.1");
        command.add("--port=" + port);
        return start(command, image, new InetSocketAddress("127.0.0.1", port));
    }

    /** A TCP port on 127.0.0.1 that nothing listens on right now. */
    public static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static List<String> command(Path image, String format, String... extra) {
        List<String> command = new ArrayList<>(List.of("qemu-nbd", "--format=" + format, "--export-name=" + EXPORT,
                "--persistent", "--read-only", "--shared=2"));
        command.addAll(List.of(extra));
        command.add(image.toString());
        return command;
    }

    private static QemuNbdServer start(List<String> command, Path image, SocketAddress address) throws IOException {
        Path log = Files.createTempFile(image.getParent(), "qemu-nbd", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        QemuNbdServer server = new QemuNbdServer(process, log);
        try {
            server.awaitListening(address);
            return server;
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /** Waits until a connection succeeds: the socket file appears at bind, before the listen. */
    private void awaitListening(SocketAddress address) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            if (!process.isAlive()) {
                throw new IOException("qemu-nbd exited with " + process.exitValue() + ": " + output());
            }
            if (canConnect(address)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("qemu-nbd did not listen on " + address + " within 20 s: " + output());
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for qemu-nbd", e);
            }
        }
    }

    private static boolean canConnect(SocketAddress address) {
        try (SocketChannel channel = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open()) {
            channel.connect(address);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private String output() throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8).strip();
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
