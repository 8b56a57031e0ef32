package io.jenkins.plugins.virtbackup.libvirt;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.jenkins.plugins.virtbackup.engine.copy.CopyCancelledException;
import io.jenkins.plugins.virtbackup.engine.copy.ImageSink;
import io.jenkins.plugins.virtbackup.engine.copy.Qcow2Writer;
import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import java.util.stream.Stream;

/**
 * Makes each qcow2 of a backup with QEMU's own tools: {@code qemu-img create} makes the image (with
 * its backing file, for an incremental), {@code qemu-nbd} serves it on a private unix socket, and
 * the copy writes to it through libnbd. QEMU lays out every cluster; we never write qcow2 ourselves.
 *
 * <p>Compressed ({@link #compressed}), {@code qemu-img convert} compresses with {@code -c}, and
 * {@code qemu-nbd} serves the image through QEMU's {@code compress} filter, which turns every write
 * into a compressed write. qcow2 compresses whole clusters and never rewrites one, so that sink
 * takes writes of whole clusters only, each once ({@link ImageSink#granularity}).
 */
public final class QemuNbdWriter implements Qcow2Writer {
    private static final long SERVER_START_TIMEOUT_MILLIS = 10_000;
    private static final long SERVER_EXIT_TIMEOUT_SECONDS = 60;
    /** qcow2's default cluster size: the unit zstd compresses. */
    static final int DEFAULT_CLUSTER_SIZE = 64 << 10;
    private static final int SMALLEST_CLUSTER_SIZE = 512;

    private final Set<PosixFilePermission> fileMode;
    private final BiConsumer<String, String> toolErrors;
    private final boolean compress;

    /**
     * @param fileMode   the permissions the image gets once complete
     * @param toolErrors where the tools' own error output goes: tool name, text
     */
    public QemuNbdWriter(Set<PosixFilePermission> fileMode, BiConsumer<String, String> toolErrors) {
        this(fileMode, toolErrors, false);
    }

    private QemuNbdWriter(Set<PosixFilePermission> fileMode, BiConsumer<String, String> toolErrors,
                          boolean compress) {
        this.fileMode = fileMode;
        this.toolErrors = toolErrors;
        this.compress = compress;
    }

    @Override
    public Qcow2Writer compressed() {
        return new QemuNbdWriter(fileMode, toolErrors, true);
    }

    @Override
    public String compression() {
        return compress ? ZSTD : null;
    }

    /** What {@code qemu-img convert} needs to write compressed clusters; nothing when not compressing. */
    private List<String> compressOptions() {
        return compress ? List.of("-c", "-o", "compression_type=" + ZSTD) : List.of();
    }

    /**
     * The cluster size of a compressed image written through {@code qemu-nbd}: 64 KiB, or the
     * largest power of two that divides {@code size}, so that the image's last cluster is whole
     * too (the filter takes whole clusters only). Disks are nearly always whole MiB.
     */
    static int clusterSizeFor(long size) {
        int cluster = DEFAULT_CLUSTER_SIZE;
        while (cluster > SMALLEST_CLUSTER_SIZE && size % cluster != 0) {
            cluster >>= 1;
        }
        return cluster;
    }

    @Override
    public ImageSink create(Path file, long size, String backingFile, int connections) throws IOException {
        if (Files.exists(file)) {
            throw new IOException(file + " exists already");
        }
        int clusterSize = compress ? clusterSizeFor(size) : 1;
        List<String> create = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", "qcow2"));
        if (backingFile != null) {
            create.addAll(List.of("-b", backingFile, "-F", "qcow2"));
        }
        if (compress) {
            create.addAll(List.of("-o", "compression_type=" + ZSTD + ",cluster_size=" + clusterSize));
        }
        create.addAll(List.of(file.toString(), Long.toString(size)));
        runTool(create);
        Files.setPosixFilePermissions(file, fileMode);
        Path folder = Files.createTempDirectory("virt-backup-nbd-");
        Path socket = folder.resolve("nbd.sock");
        List<String> serve = new ArrayList<>(List.of("qemu-nbd", "--socket=" + socket, "--cache=writeback",
                "--discard=unmap", "--shared=" + connections));
        serve.addAll(compress ? List.of("--image-opts", compressFilter(file)) : List.of("--format=qcow2",
                file.toString()));
        Process server = new ProcessBuilder(serve)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(folder.resolve("qemu-nbd.err").toFile())
                .start();
        List<Pointer> handles = new ArrayList<>();
        try {
            for (int i = 0; i < connections; i++) {
                handles.add(connect(socket, server, folder));
            }
            return new Sink(file, server, handles, folder, clusterSize);
        } catch (IOException | RuntimeException e) {
            handles.forEach(Libnbd::nbd_close);
            server.destroyForcibly();
            removeFolder(folder);
            throw e;
        }
    }

    /**
     * QEMU's {@code compress} filter over the qcow2 {@code file}, as {@code --image-opts} reads it;
     * a comma inside a value is written twice.
     */
    static String compressFilter(Path file) {
        return "driver=compress,file.driver=qcow2,file.file.driver=file,file.file.filename="
                + file.toString().replace(",", ",,");
    }

    /**
     * {@code qemu-img convert} into a new qcow2, 16 requests at a time, written out of order:
     * measured twice as fast as a copy through {@code qemu-nbd} (docs/benchmark.md).
     */
    @Override
    public void convert(String nbdUri, Path file, BooleanSupplier cancelled, IntConsumer progress)
            throws IOException {
        List<String> options = new ArrayList<>(List.of("-W", "-m", "16"));
        options.addAll(compressOptions());
        options.addAll(List.of("-f", "raw", "-O", "qcow2", nbdUri));
        new QemuImgConvert(fileMode, toolErrors).run(options, file, cancelled, progress);
    }

    /**
     * {@code qemu-img convert -B}: QEMU asks the image which clusters it holds above its backing
     * file and writes only those, zeros as zero clusters; the rest reads through the new backing file.
     */
    @Override
    public void copyImage(Path image, String format, Path file, String backingFile, BooleanSupplier cancelled,
                          IntConsumer progress) throws IOException {
        List<String> options = new ArrayList<>(List.of("-W", "-m", "16"));
        options.addAll(compressOptions());
        if (backingFile != null) {
            options.addAll(List.of("-B", backingFile, "-F", "qcow2"));
        }
        options.addAll(List.of("-f", format, "-O", "qcow2", image.toString()));
        new QemuImgConvert(fileMode, toolErrors).run(options, file, cancelled, progress);
    }

    /**
     * qemu-nbd takes a moment to make its socket and listen on it: a connection that finds neither
     * yet is tried again until it answers, ends, or the start's time is up.
     */
    private Pointer connect(Path socket, Process server, Path folder) throws IOException {
        long deadline = System.currentTimeMillis() + SERVER_START_TIMEOUT_MILLIS;
        while (true) {
            Pointer handle = Libnbd.nbd_create();
            if (handle == null) {
                throw new IOException("cannot create an NBD handle: " + Libnbd.lastError());
            }
            if (Libnbd.nbd_connect_unix(handle, socket.toString()) >= 0) {
                return handle;
            }
            String error = Libnbd.lastError();
            Libnbd.nbd_close(handle);
            if (!server.isAlive()) {
                throw new IOException("qemu-nbd ended at once: " + toolOutput(folder));
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IOException("cannot connect to qemu-nbd on " + socket + ": " + error);
            }
            sleep(20);
        }
    }

    private void runTool(List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (process.waitFor() != 0) {
                toolErrors.accept(command.get(0), output);
                throw new IOException(String.join(" ", command.subList(0, 2)) + " failed: " + QemuImgConvert.lastLine(output));
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command.get(0), e);
        }
    }

    private String toolOutput(Path folder) {
        try {
            String text = Files.readString(folder.resolve("qemu-nbd.err"), StandardCharsets.UTF_8).strip();
            if (!text.isEmpty()) {
                toolErrors.accept("qemu-nbd", text);
            }
            return QemuImgConvert.lastLine(text);
        } catch (IOException e) {
            return "(its error output is unreadable: " + e.getMessage() + ")";
        }
    }


    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static void removeFolder(Path folder) {
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a few bytes in the temporary folder; nothing depends on them
        }
    }

    /**
     * One image being written, through several connections: each write borrows one, so that the
     * copy's workers write at once. {@link #close} may come from anywhere, once.
     */
    private final class Sink implements ImageSink {
        private final Path file;
        private final Process server;
        private final List<Pointer> handles;
        private final BlockingQueue<Pointer> idle;
        private final Path folder;
        private final int granularity;
        private volatile boolean closed;

        Sink(Path file, Process server, List<Pointer> handles, Path folder, int granularity) {
            this.file = file;
            this.server = server;
            this.handles = List.copyOf(handles);
            this.idle = new ArrayBlockingQueue<>(handles.size(), false, handles);
            this.folder = folder;
            this.granularity = granularity;
        }

        /** 1, or when compressing the image's cluster size: the filter writes whole clusters, each once. */
        @Override
        public int granularity() {
            return granularity;
        }

        @Override
        public void write(ByteBuffer chunk, long position) throws IOException {
            int length = chunk.remaining();
            Pointer handle = borrow();
            try {
                if (chunk.isDirect()) {
                    Pointer data = Native.getDirectBufferPointer(chunk).share(chunk.position());
                    try {
                        check(Libnbd.nbd_pwrite(handle, data, length, position, 0), "writing", length, position);
                    } finally {
                        Reference.reachabilityFence(chunk);
                    }
                } else {
                    try (Memory bounce = new Memory(length)) {
                        bounce.getByteBuffer(0, length).put(chunk.duplicate());
                        check(Libnbd.nbd_pwrite(handle, bounce, length, position, 0), "writing", length, position);
                    }
                }
            } finally {
                idle.add(handle);
            }
        }

        /** qemu-nbd marks the clusters as zeros in the qcow2: they hide the backing file's data. */
        @Override
        public void writeZeros(long position, long length) throws IOException {
            Pointer handle = borrow();
            try {
                for (long at = position; at < position + length; at += 1 << 30) {
                    long piece = Math.min(1 << 30, position + length - at);
                    check(Libnbd.nbd_zero(handle, piece, at, 0), "zeroing", piece, at);
                }
            } finally {
                idle.add(handle);
            }
        }

        /** A connection no other write uses; libnbd reports errors per thread, so one write has one. */
        private Pointer borrow() throws IOException {
            if (closed) {
                throw new IOException("the NBD connections to " + file + " are closed");
            }
            try {
                return idle.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CopyCancelledException("interrupted while writing " + file);
            }
        }

        /**
         * Flushes every connection once every write is done, disconnects (qemu-nbd then ends,
         * closing the image), and makes the file durable. The size was fixed when the image was made.
         */
        @Override
        public synchronized void finish(long size) throws IOException {
            if (closed) {
                throw new IOException("the NBD connections to " + file + " are closed");
            }
            for (Pointer handle : handles) {
                check(Libnbd.nbd_flush(handle, 0), "flushing", 0, 0);
            }
            closed = true;
            String error = null;
            for (Pointer handle : handles) {
                if (Libnbd.nbd_shutdown(handle, 0) < 0 && error == null) {
                    error = Libnbd.lastError();
                }
                Libnbd.nbd_close(handle);
            }
            try {
                if (error != null) {
                    throw new IOException("disconnecting from qemu-nbd failed: " + error);
                }
                awaitServerExit();
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    channel.force(true);
                }
            } finally {
                server.destroyForcibly();
                removeFolder(folder);
            }
        }

        private void awaitServerExit() throws IOException {
            try {
                if (!server.waitFor(SERVER_EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    throw new IOException("qemu-nbd did not end within " + SERVER_EXIT_TIMEOUT_SECONDS
                            + " s of the copy's end; " + file + " may be incomplete");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while qemu-nbd closed " + file, e);
            }
            if (server.exitValue() != 0) {
                throw new IOException("qemu-nbd ended with status " + server.exitValue() + " writing " + file + ": "
                        + toolOutput(folder));
            }
        }

        /**
         * Without {@link #finish}: the image is abandoned, and the backup that held it discarded.
         * The server is stopped first, so that a write still blocked in libnbd fails at once.
         */
        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            server.destroyForcibly();
            try {
                server.waitFor(SERVER_EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            handles.forEach(Libnbd::nbd_close);
            removeFolder(folder);
        }

        private void check(int result, String what, long length, long position) throws IOException {
            if (result < 0) {
                throw new IOException(what + " " + length + " bytes of " + file + " at " + position + " failed: "
                        + Libnbd.lastError() + "; " + toolOutput(folder));
            }
        }
    }
}
