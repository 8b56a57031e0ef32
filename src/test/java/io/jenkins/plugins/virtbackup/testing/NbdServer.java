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
 * A real NBD server for as long as the test holds it: {@code qemu-nbd} serving one image
 * read-only, on a unix socket or on 127.0.0.1 only, or {@code nbdkit} with a plugin that answers
 * as the test wants. {@link #close} kills it, and tests call that in {@code @AfterEach}.
 */
public final class NbdServer implements AutoCloseable {
    public static final String EXPORT = "vda";

    private final String program;
    private final Process process;
    private final Path log;

    private NbdServer(String program, Process process, Path log) {
        this.program = program;
        this.process = process;
        this.log = log;
    }

    /** Serves {@code image} as {@value #EXPORT} on {@code socket}; {@code extra} e.g. {@code --bitmap=b0}. */
    public static NbdServer qemuNbdOnUnixSocket(Path image, String format, Path socket, String... extra)
            throws IOException {
        List<String> command = command(image, format, extra);
        command.add("--socket=" + socket);
        return start(command, image, UnixDomainSocketAddress.of(socket));
    }

    /** Serves {@code image} as {@value #EXPORT} on 127.0.0.1:{@code port}, never another address. */
    public static NbdServer qemuNbdOnLoopback(Path image, String format, int port) throws IOException {
        List<String> command = command(image, format);
        command.add("--bind=127.0.0.1");
        command.add("--port=" + port);
        return start(command, image, new InetSocketAddress("127.0.0.1", port));
    }

    /**
     * Runs {@code nbdkit} in the foreground on {@code socket} with {@code plugin} and its
     * arguments; it serves any export name.
     */
    public static NbdServer nbdkitOnUnixSocket(Path socket, String... plugin) throws IOException {
        List<String> command = new ArrayList<>(List.of("nbdkit", "--foreground", "--exit-with-parent",
                "--unix=" + socket));
        command.addAll(List.of(plugin));
        return start(command, socket, UnixDomainSocketAddress.of(socket));
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

    /** Starts {@code command}, its output in a log beside {@code near}, and waits until it listens. */
    private static NbdServer start(List<String> command, Path near, SocketAddress address) throws IOException {
        Path log = Files.createTempFile(near.getParent(), command.get(0), ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        NbdServer server = new NbdServer(command.get(0), process, log);
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
                throw new IOException(program + " exited with " + process.exitValue() + ": " + output());
            }
            if (canConnect(address)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(program + " did not listen on " + address + " within 20 s: " + output());
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for " + program, e);
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
