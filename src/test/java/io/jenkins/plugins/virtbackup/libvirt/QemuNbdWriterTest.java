package io.jenkins.plugins.virtbackup.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.copy.CopyCancelledException;
import io.jenkins.plugins.virtbackup.engine.copy.ImageSink;
import io.jenkins.plugins.virtbackup.engine.copy.Qcow2Writer;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.HostRequirement;
import io.jenkins.plugins.virtbackup.testing.NbdServer;
import io.jenkins.plugins.virtbackup.testing.QemuImages;
import io.jenkins.plugins.virtbackup.testing.SparseFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The qcow2 files of a live backup, made by QEMU's own tools: an incremental written through
 * {@code qemu-nbd} from several threads over its parent, and a full copied by {@code qemu-img
 * convert} from a real NBD export. What counts is what QEMU reads back, and that no tool process
 * or temporary folder outlives the image.
 */
class QemuNbdWriterTest {
    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final Set<PosixFilePermission> MODE = PosixFilePermissions.fromString("rw-r-----");

    @TempDir
    Path dir;

    private final List<NbdServer> servers = new ArrayList<>();
    private final List<String> toolErrors = Collections.synchronizedList(new ArrayList<>());
    private final QemuNbdWriter writer = new QemuNbdWriter(MODE, (tool, text) -> toolErrors.add(tool + ": " + text));

    @BeforeEach
    void qemuToolsPresent() {
        HostRequirement.requireQemuToolsAndLibnbd();
    }

    /** Servers, and any tool a failed test left running on this test's files. */
    @AfterEach
    void stopProcesses() {
        servers.forEach(NbdServer::close);
        ProcessHandle.current().children().filter(child -> arguments(child).stream()
                .anyMatch(argument -> argument.contains(dir.toString()))).forEach(ProcessHandle::destroyForcibly);
    }

    @Test
    void fourThreadsWriteAnIncrementalOverItsParentAndQemuReadsBackExactlyThat() throws Exception {
        long size = 16L * MIB;
        Path base = qcow2(dir.resolve("base.qcow2"), size, "write -P 0xaa 0 6M", "write -P 0xbb 10M 2M");
        byte[] expected = Files.readAllBytes(guestView(base));
        Path top = Files.createDirectory(dir.resolve("inc")).resolve("top.qcow2");
        List<List<Write>> byThread = List.of(
                List.of(Write.data(0, 64 * KIB, true), Write.data(3L * MIB + 777, 100_000, false)),
                List.of(Write.zeros(MIB, MIB), Write.data(5L * MIB, 2 * MIB, false)),
                List.of(Write.data(10L * MIB + 4096, 4096, true), Write.zeros(11L * MIB + 1000, 70_000)),
                List.of(Write.data(14L * MIB, MIB, true), Write.data(size - 3000, 3000, false)));

        ProcessHandle server;
        Path folder;
        try (ImageSink sink = writer.create(top, size, "../base.qcow2", 4)) {
            server = running("qemu-nbd", top).orElseThrow(() -> new AssertionError("no qemu-nbd serves " + top));
            folder = socketFolder(server);
            assertThat(folder.getFileName().toString()).startsWith("virt-backup-nbd-");
            assertThat(folder).isDirectory();

            writeAtOnce(sink, byThread);
            sink.finish(size);

            assertThat(server.isAlive()).as("qemu-nbd once finished").isFalse();
            assertThat(folder).as("qemu-nbd's folder once finished").doesNotExist();
        }
        byThread.forEach(writes -> writes.forEach(write -> write.applyTo(expected)));

        byte[] written = Files.readAllBytes(guestView(top));
        assertThat(Arrays.mismatch(written, expected)).as("first byte where QEMU's view differs").isEqualTo(-1);
        String info = Host.run("qemu-img", "info", "--output=json", top.toString());
        assertThat(info).contains("\"format\": \"qcow2\"", "\"backing-filename\": \"../base.qcow2\"",
                "\"backing-filename-format\": \"qcow2\"");
        assertThat(Files.getPosixFilePermissions(top)).isEqualTo(MODE);
        assertThat(toolErrors).isEmpty();
    }

    /**
     * Compressed, the sink takes whole 64 KiB clusters (QEMU's compress filter): text clusters are
     * stored zstd-compressed, random ones as they are (they do not shrink), zeros as zero clusters
     * hiding the parent's data; QEMU reads back exactly what was written over the parent.
     */
    @Test
    void aCompressedIncrementalHoldsZstdClustersOverItsParentAndReadsBackExactly() throws Exception {
        long size = 16L * MIB;
        Path base = qcow2(dir.resolve("base.qcow2"), size, "write -P 0xaa 0 6M", "write -P 0xbb 10M 2M");
        byte[] expected = Files.readAllBytes(guestView(base));
        Path top = Files.createDirectory(dir.resolve("inc")).resolve("top.qcow2");
        // 1 MiB + 256 KiB + 128 KiB of clusters alternating random and text: 11 of them text.
        List<List<Write>> byThread = List.of(
                List.of(Write.halfCompressible(0, MIB, true)),
                List.of(Write.zeros(10L * MIB + 64 * KIB, 128 * KIB), Write.halfCompressible(2L * MIB, 256 * KIB, false)),
                List.of(Write.halfCompressible(size - 128 * KIB, 128 * KIB, true)));
        Qcow2Writer compressing = writer.compressed();
        assertThat(compressing.compression()).isEqualTo("zstd");
        assertThat(writer.compression()).as("the writer it came from").isNull();

        try (ImageSink sink = compressing.create(top, size, "../base.qcow2", 3)) {
            assertThat(sink.granularity()).isEqualTo(64 * KIB);
            assertThat(running("qemu-nbd", top)).as("qemu-nbd serving the filter").isPresent();
            writeAtOnce(sink, byThread);
            sink.finish(size);
        }
        byThread.forEach(writes -> writes.forEach(write -> write.applyTo(expected)));

        byte[] written = Files.readAllBytes(guestView(top));
        assertThat(Arrays.mismatch(written, expected)).as("first byte where QEMU's view differs").isEqualTo(-1);
        assertThat(QemuImages.compressionType(top)).isEqualTo("zstd");
        assertThat(QemuImages.backingFile(top)).isEqualTo("../base.qcow2");
        assertThat(QemuImages.compressedClusters(top)).as("text clusters").isEqualTo(11);
        assertThat(QemuImages.allocatedClusters(top)).as("data clusters").isEqualTo(22);
        assertThat(Files.getPosixFilePermissions(top)).isEqualTo(MODE);
        assertThat(running("qemu-nbd", top)).isEmpty();
        assertThat(toolErrors).isEmpty();
    }

    /** A disk whose size is no multiple of 64 KiB gets smaller clusters, so that its last one is whole too. */
    @Test
    void theClusterSizeOfACompressedImageDividesItsSize() {
        assertThat(QemuNbdWriter.clusterSizeFor(16L * MIB)).isEqualTo(64 * KIB);
        assertThat(QemuNbdWriter.clusterSizeFor(16L * MIB + 8 * KIB)).isEqualTo(8 * KIB);
        assertThat(QemuNbdWriter.clusterSizeFor(16L * MIB + 512)).isEqualTo(512);
        assertThat(QemuNbdWriter.compressFilter(Path.of("/b/a,b.qcow2"))).endsWith("file.file.filename=/b/a,,b.qcow2");
    }

    @Test
    void aCompressedImageOfAnOddSizeTakesItsLastClusterWhole() throws Exception {
        long size = 2L * MIB + 8 * KIB;
        Path image = dir.resolve("odd.qcow2");
        Write last = Write.text(size - 8 * KIB, 8 * KIB);

        try (ImageSink sink = writer.compressed().create(image, size, null, 1)) {
            assertThat(sink.granularity()).isEqualTo(8 * KIB);
            last.to(sink);
            sink.finish(size);
        }

        byte[] expected = new byte[(int) size];
        last.applyTo(expected);
        assertThat(Arrays.mismatch(Files.readAllBytes(guestView(image)), expected)).isEqualTo(-1);
        assertThat(QemuImages.compressedClusters(image)).isEqualTo(1);
    }

    @Test
    void closeWithoutFinishStopsQemuNbdAndRemovesItsFolder() throws IOException {
        Path image = dir.resolve("abandoned.qcow2");
        ImageSink sink = writer.create(image, 4L * MIB, null, 2);
        ProcessHandle server = running("qemu-nbd", image).orElseThrow();
        Path folder = socketFolder(server);
        sink.write(ByteBuffer.wrap(SparseFile.randomBytes(8192, 1)), 0);

        sink.close();

        assertThat(server.isAlive()).as("qemu-nbd once closed").isFalse();
        assertThat(folder).doesNotExist();
        assertThatThrownBy(() -> sink.write(ByteBuffer.allocate(512), 0)).isInstanceOf(IOException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> sink.finish(4L * MIB)).isInstanceOf(IOException.class);
        sink.close();  // a second close does nothing
    }

    @Test
    void createRefusesAnExistingFileAndLeavesItAlone() throws IOException {
        Path existing = Files.writeString(dir.resolve("earlier.qcow2"), "keep me");
        Set<PosixFilePermission> before = Files.getPosixFilePermissions(existing);

        assertThatThrownBy(() -> writer.create(existing, MIB, null, 1)).isInstanceOf(IOException.class)
                .hasMessageContaining("exists");

        assertThat(Files.readString(existing)).isEqualTo("keep me");
        assertThat(Files.getPosixFilePermissions(existing)).isEqualTo(before);
        assertThat(running("qemu-nbd", existing)).isEmpty();
    }

    @Test
    void convertCopiesAnExportIntoAQcow2EqualToIt() throws IOException {
        Path source = qcow2(dir.resolve("disk.qcow2"), 16L * MIB, "write -P 0x11 0 1M", "write -P 0x22 5M 3M",
                "write -P 0x33 15M 4k");
        Path socket = dir.resolve("export.sock");
        servers.add(NbdServer.qemuNbdOnUnixSocket(source, "qcow2", socket));
        Path copy = dir.resolve("full.qcow2");
        List<Integer> progress = Collections.synchronizedList(new ArrayList<>());

        writer.convert(uri(socket), copy, () -> false, progress::add);

        Host.run("qemu-img", "compare", "-f", "qcow2", "-F", "qcow2", source.toString(), copy.toString());
        assertThat(Host.run("qemu-img", "info", "--output=json", copy.toString())).contains("\"format\": \"qcow2\"")
                .doesNotContain("backing-filename");
        assertThat(progress).as("percentages reported").isNotEmpty().isSorted().allMatch(p -> p >= 0 && p <= 100)
                .last().isEqualTo(100);
        assertThat(Files.getPosixFilePermissions(copy)).isEqualTo(MODE);
        assertThat(running("qemu-img", copy)).isEmpty();
        assertThat(toolErrors).isEmpty();
    }

    @Test
    void aCompressedConvertWritesZstdClustersThatReadAsTheExport() throws IOException {
        Path source = SparseFile.create(dir.resolve("disk.raw"), 16L * MIB).halfCompressible(0, 2 * MIB)
                .halfCompressible(9L * MIB, MIB).synced();
        Path socket = dir.resolve("export.sock");
        servers.add(NbdServer.qemuNbdOnUnixSocket(source, "raw", socket));
        Path copy = dir.resolve("full.qcow2");
        Path plain = dir.resolve("plain.qcow2");

        writer.compressed().convert(uri(socket), copy, () -> false, percent -> { });
        writer.convert(uri(socket), plain, () -> false, percent -> { });

        Host.run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", source.toString(), copy.toString());
        assertThat(QemuImages.compressionType(copy)).isEqualTo("zstd");
        assertThat(QemuImages.compressedClusters(copy)).as("the text clusters").isEqualTo(24);
        assertThat(QemuImages.compressedClusters(plain)).as("the same copy, not compressed").isZero();
        assertThat(Files.size(copy)).as("24 text clusters of 64 KiB, each compressed to less than half")
                .isLessThan(Files.size(plain) - 24L * 32 * KIB);
        assertThat(Files.getPosixFilePermissions(copy)).isEqualTo(MODE);
        assertThat(toolErrors).isEmpty();
    }

    @Test
    void convertFromAnExportThatIsNotThereFailsWithQemuImgsError() {
        String missing = uri(dir.resolve("missing.sock"));
        Path copy = dir.resolve("full.qcow2");

        assertThatThrownBy(() -> writer.convert(missing, copy, () -> false, percent -> { }))
                .isInstanceOf(IOException.class).isNotInstanceOf(CopyCancelledException.class)
                .hasMessageContaining("qemu-img convert into " + copy)
                .hasMessageContaining("Failed to connect to '" + dir.resolve("missing.sock") + "'");

        assertThat(toolErrors).singleElement().asString().startsWith("qemu-img: ").contains("Could not open '" + missing);
        assertThat(copy).doesNotExist();
    }

    /**
     * An export that answers every read after 30 s: the copy would take minutes. Cancelled once
     * the tool runs, it must be stopped, and its error file removed.
     */
    @Test
    void aCancelledConvertStopsQemuImg() throws Exception {
        HostRequirement.requireCommand("nbdkit", "nbdkit");
        Path socket = dir.resolve("slow.sock");
        servers.add(NbdServer.nbdkitOnUnixSocket(socket, "--filter=delay", "pattern", "size=256M", "rdelay=30"));
        Path copy = dir.resolve("full.qcow2");
        AtomicReference<ProcessHandle> tool = new AtomicReference<>();
        AtomicReference<Path> errors = new AtomicReference<>();
        long started = System.nanoTime();

        assertThatThrownBy(() -> writer.convert(uri(socket), copy, () -> {
            running("qemu-img", copy).ifPresent(found -> {
                tool.compareAndSet(null, found);
                errors.compareAndSet(null, errorOutput(found));
            });
            return tool.get() != null;
        }, percent -> { })).isInstanceOf(CopyCancelledException.class);

        assertThat(tool.get()).as("qemu-img seen running").isNotNull();
        tool.get().onExit().get(10, TimeUnit.SECONDS);
        assertThat(tool.get().isAlive()).isFalse();
        assertThat(System.nanoTime() - started).as("nanoseconds until cancelled")
                .isLessThan(TimeUnit.SECONDS.toNanos(20));
        assertThat(errors.get()).as("qemu-img's error file").isNotNull().doesNotExist();
    }

    /** One write or zero write to the image, and what it does to the bytes the guest sees. */
    private record Write(long offset, byte[] data, int zeros, boolean direct) {
        static Write data(long offset, int length, boolean direct) {
            return new Write(offset, SparseFile.randomBytes(length, offset), 0, direct);
        }

        static Write halfCompressible(long offset, int length, boolean direct) {
            return new Write(offset, SparseFile.halfCompressibleBytes(length, offset), 0, direct);
        }

        static Write text(long offset, int length) {
            return new Write(offset, SparseFile.textBytes(length, offset), 0, false);
        }

        static Write zeros(long offset, int length) {
            return new Write(offset, null, length, false);
        }

        void to(ImageSink sink) throws IOException {
            if (data == null) {
                sink.writeZeros(offset, zeros);
            } else if (direct) {
                // not at the start of its buffer: the sink must write from the buffer's position
                ByteBuffer buffer = ByteBuffer.allocateDirect(data.length + 512);
                buffer.position(512).mark();
                buffer.put(data).reset();
                sink.write(buffer, offset);
            } else {
                sink.write(ByteBuffer.wrap(data), offset);
            }
        }

        void applyTo(byte[] image) {
            if (data == null) {
                Arrays.fill(image, (int) offset, (int) offset + zeros, (byte) 0);
            } else {
                System.arraycopy(data, 0, image, (int) offset, data.length);
            }
        }
    }

    /** Each list from a thread of its own, all starting together. */
    private static void writeAtOnce(ImageSink sink, List<List<Write>> byThread) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(byThread.size());
        CyclicBarrier start = new CyclicBarrier(byThread.size());
        try {
            List<Future<Void>> done = new ArrayList<>();
            for (List<Write> writes : byThread) {
                Callable<Void> task = () -> {
                    start.await(10, TimeUnit.SECONDS);
                    for (Write write : writes) {
                        write.to(sink);
                    }
                    return null;
                };
                done.add(threads.submit(task));
            }
            for (Future<Void> thread : done) {
                thread.get(60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    private Path qcow2(Path image, long size, String... writes) throws IOException {
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), Long.toString(size));
        List<String> command = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
        for (String write : writes) {
            command.add("-c");
            command.add(write);
        }
        command.add(image.toString());
        Host.run(command.toArray(String[]::new));
        return image;
    }

    /** What the guest sees: the image (and its backing chain) converted to raw by QEMU itself. */
    private Path guestView(Path image) throws IOException {
        Path raw = dir.resolve(image.getFileName() + ".guest.raw");
        Host.run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", image.toString(), raw.toString());
        return raw;
    }

    private static String uri(Path socket) {
        return "nbd+unix:///" + NbdServer.EXPORT + "?socket=" + socket;
    }

    /** A child of this JVM running {@code program} on {@code file}. */
    private static Optional<ProcessHandle> running(String program, Path file) {
        return ProcessHandle.current().children().filter(ProcessHandle::isAlive)
                .filter(child -> child.info().command().map(command -> command.endsWith("/" + program)).orElse(false))
                .filter(child -> arguments(child).stream().anyMatch(argument -> argument.equals(file.toString())
                        || argument.endsWith("filename=" + file)))
                .findFirst();
    }

    private static List<String> arguments(ProcessHandle process) {
        return process.info().arguments().map(List::of).orElse(List.of());
    }

    /** The folder of qemu-nbd's socket, from its {@code --socket=} argument. */
    private static Path socketFolder(ProcessHandle server) {
        return arguments(server).stream().filter(argument -> argument.startsWith("--socket="))
                .map(argument -> Path.of(argument.substring("--socket=".length())).getParent())
                .findFirst().orElseThrow(() -> new AssertionError("qemu-nbd without --socket: " + arguments(server)));
    }

    /** The file a process writes its error output into. */
    private static Path errorOutput(ProcessHandle process) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(process.pid()), "fd", "2"));
        } catch (IOException e) {
            throw new AssertionError("cannot see where " + process.pid() + " writes its errors", e);
        }
    }
}
