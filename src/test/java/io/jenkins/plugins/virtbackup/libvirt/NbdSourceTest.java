package io.jenkins.plugins.virtbackup.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.copy.ChunkIndex;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkPipeline;
import io.jenkins.plugins.virtbackup.engine.copy.Extent;
import io.jenkins.plugins.virtbackup.engine.copy.FileSource;
import io.jenkins.plugins.virtbackup.engine.copy.SparseFileSink;
import io.jenkins.plugins.virtbackup.testing.RecordingSource;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.HostRequirement;
import io.jenkins.plugins.virtbackup.testing.NbdServer;
import io.jenkins.plugins.virtbackup.testing.SparseFile;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * libnbd through JNA against a real {@code qemu-nbd}, serving real sparse raw files and qcow2
 * images written by {@code qemu-io}: the extents are the server's, the bytes are the guest's view
 * ({@code qemu-img convert -O raw}), and a copy through the engine's pipeline reads only data.
 */
class NbdSourceTest {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    private static final String VDA = NbdServer.EXPORT;

    @TempDir
    Path dir;

    private final List<NbdServer> servers = new ArrayList<>();

    @BeforeEach
    void qemuToolsPresent() {
        HostRequirement.requireQemuToolsAndLibnbd();
    }

    @AfterEach
    void stopServers() {
        servers.forEach(NbdServer::close);
    }

    @Test
    void rawFileExtentsAreTheFileSystemsAndReadsAreItsBytes() throws IOException {
        long size = 64 * MIB + 12 * KIB;
        Path raw = SparseFile.create(dir.resolve("disk.raw"), size)
                .random(0, 4096)
                .random(MIB + 8 * KIB, 20_000)                 // not a whole block: the block is data
                .random(32 * MIB - 3 * MIB, (int) (6 * MIB))          // across the 32 MiB a read may ask for
                .random(size - 4096, 4096)
                .synced();
        Path socket = serve(raw, "raw");

        try (NbdSource nbd = NbdSource.connectUnix(socket, VDA, NbdSource.BASE_ALLOCATION);
             FileSource file = FileSource.open(raw, new LinuxFileExtents())) {
            assertThat(nbd.size()).isEqualTo(size);
            assertThat(nbd.extents(0, size)).as("whole export").isEqualTo(file.extents(0, size))
                    .filteredOn(Extent::data).hasSize(4);
            for (long start = 0; start < size; start += ChunkIndex.CHUNK_SIZE) {
                long end = Math.min(size, start + ChunkIndex.CHUNK_SIZE);
                assertThat(nbd.extents(start, end)).as("chunk at %d", start).isEqualTo(file.extents(start, end));
            }
            assertThat(nbd.extents(MIB + 100, MIB + 9000)).as("unaligned, inside a hole then data")
                    .containsExactly(new Extent(MIB + 100, 8 * KIB - 100, false),
                            new Extent(MIB + 8 * KIB, 9000 - 8 * KIB, true));

            assertThat(nbd.maxRead()).as("qemu-nbd advertises 32 MiB").isEqualTo(32 * MIB);
            ByteBuffer across = ByteBuffer.allocateDirect((int) (40 * MIB));
            across.position(7).limit(7 + (int) (36 * MIB));
            nbd.read(across, 27 * MIB + 5);
            assertThat(across.hasRemaining()).as("read fills the buffer").isFalse();
            assertThat(across.flip().position(7)).as("36 MiB in two pieces, into a buffer at position 7")
                    .isEqualTo(bytesOf(raw, 27 * MIB + 5, (int) (36 * MIB)));

            ByteBuffer heap = ByteBuffer.allocate(20_000);
            nbd.read(heap, MIB + 8 * KIB);
            assertThat(heap.flip()).as("a heap buffer").isEqualTo(bytesOf(raw, MIB + 8 * KIB, 20_000));

            assertThatThrownBy(() -> nbd.read(ByteBuffer.allocateDirect(8192), size - 4096))
                    .as("past the end").isInstanceOf(IOException.class).hasMessageContaining(socket.toString());
        }
    }

    @Test
    void qcow2ExtentsAreTheWrittenClustersAndReadsTheGuestView() throws IOException {
        Path image = qcow2("disk.qcow2", 64 * MIB, "write -P 0x11 0 64k", "write -P 0x22 1M 192k",
                "write -P 0x33 40M 1M", "write -z 41M 64k", "write -P 0x44 63M 1M");
        Path guestView = guestView(image);
        Path socket = serve(image, "qcow2");

        try (NbdSource nbd = NbdSource.connectUnix(socket, VDA, NbdSource.BASE_ALLOCATION)) {
            assertThat(nbd.size()).isEqualTo(64 * MIB);
            // A cluster written as zeros (qcow2's zero flag) is a hole; everything else unwritten, too.
            assertThat(nbd.extents(0, 64 * MIB)).containsExactly(
                    new Extent(0, 64 * KIB, true),
                    new Extent(64 * KIB, MIB - 64 * KIB, false),
                    new Extent(MIB, 192 * KIB, true),
                    new Extent(MIB + 192 * KIB, 39 * MIB - 192 * KIB, false),
                    new Extent(40 * MIB, MIB, true),
                    new Extent(41 * MIB, 22 * MIB, false),
                    new Extent(63 * MIB, MIB, true));
            for (Extent extent : nbd.extents(0, 64 * MIB)) {
                ByteBuffer read = ByteBuffer.allocateDirect((int) extent.length());
                nbd.read(read, extent.offset());
                assertThat(read.flip()).as("%s", extent)
                        .isEqualTo(bytesOf(guestView, extent.offset(), (int) extent.length()));
            }
        }
    }

    @Test
    void aCopyThroughThePipelineIsTheGuestViewAndReadsOnlyData() throws IOException {
        Path image = qcow2("disk.qcow2", 48 * MIB + 512 * KIB, "write -P 0x5a 64k 64k", "write -P 0x01 3M 2M",
                "write -P 0x7e 47M 1536k");
        Path guestView = guestView(image);
        Path socket = serve(image, "qcow2");
        Path copy = dir.resolve("copy.raw");

        try (NbdSource nbd = NbdSource.connectUnix(socket, VDA, NbdSource.BASE_ALLOCATION);
             RecordingSource counting = new RecordingSource(nbd);
             SparseFileSink sink = SparseFileSink.create(copy, PosixFilePermissions.fromString("rw-------"))) {
            long dataBytes = nbd.extents(0, nbd.size()).stream().filter(Extent::data).mapToLong(Extent::length).sum();
            List<Long> chunksWithData = new ArrayList<>();
            ChunkPipeline.Totals totals = new ChunkPipeline(() -> false).run(counting, sink,
                    (chunk, sha256) -> {
                        if (sha256 != null) {
                            chunksWithData.add(chunk);
                        }
                    }, null, null);
            sink.finish(totals.size());

            assertThat(dataBytes).as("premise").isEqualTo(64 * KIB + 2 * MIB + 1536 * KIB);
            assertThat(counting.bytesRead()).as("bytes read over NBD").isEqualTo(dataBytes);
            assertThat(totals.dataBytes()).isEqualTo(dataBytes);
            assertThat(chunksWithData).containsExactly(0L, 3L, 4L, 47L, 48L);
        }
        assertThat(Files.mismatch(copy, guestView)).as("copy against qemu-img convert -O raw").isEqualTo(-1);
    }

    @Test
    void aDirtyBitmapsDataIsWhatWasWrittenSinceItWasAdded() throws IOException {
        Path image = qcow2("disk.qcow2", 32 * MIB, "write -P 0x10 0 4M");
        Host.run("qemu-img", "bitmap", "--add", "--enable", image.toString(), "b0");
        qemuIo(image, "write -P 0x20 1M 128k", "write -P 0x30 8M 64k", "write -P 0x40 20M 3M");
        Path guestView = guestView(image);
        Path socket = serve(image, "qcow2", "--bitmap=b0");

        try (NbdSource dirty = NbdSource.connectUnix(socket, VDA, NbdSource.dirtyBitmap("b0"))) {
            assertThat(dirty.metaContext()).isEqualTo("qemu:dirty-bitmap:b0");
            List<Extent> extents = dirty.extents(0, 32 * MIB);
            assertThat(extents).containsExactly(
                    new Extent(0, MIB, false),
                    new Extent(MIB, 128 * KIB, true),
                    new Extent(MIB + 128 * KIB, 7 * MIB - 128 * KIB, false),
                    new Extent(8 * MIB, 64 * KIB, true),
                    new Extent(8 * MIB + 64 * KIB, 12 * MIB - 64 * KIB, false),
                    new Extent(20 * MIB, 3 * MIB, true),
                    new Extent(23 * MIB, 9 * MIB, false));
            assertThat(dirty.extents(MIB + 64 * KIB, 8 * MIB + 32 * KIB)).as("a range cut inside dirty blocks")
                    .containsExactly(new Extent(MIB + 64 * KIB, 64 * KIB, true),
                            new Extent(MIB + 128 * KIB, 7 * MIB - 128 * KIB, false),
                            new Extent(8 * MIB, 32 * KIB, true));
            ByteBuffer changed = ByteBuffer.allocateDirect((int) (3 * MIB));
            dirty.read(changed, 20 * MIB);
            assertThat(changed.flip()).isEqualTo(bytesOf(guestView, 20 * MIB, (int) (3 * MIB)));
        }
        try (NbdSource allocation = NbdSource.connectUnix(socket, VDA, NbdSource.BASE_ALLOCATION)) {
            assertThat(allocation.extents(0, 32 * MIB)).as("the same export: written before the bitmap is data too")
                    .startsWith(new Extent(0, 4 * MIB, true));
        }
    }

    /**
     * nbdkit's eval plugin answers each block status request with one extent that stops at the
     * next 64 KiB boundary: the source must ask again from there, and merge what the answers split.
     */
    @Test
    void aServerThatAnswersForLessThanAskedIsAskedAgain() throws IOException {
        HostRequirement.requireCommand("nbdkit", "nbdkit");
        Path socket = dir.resolve("short.sock");
        servers.add(NbdServer.nbdkitOnUnixSocket(socket, "eval",
                "get_size=echo " + MIB,
                "pread=dd if=/dev/zero count=$3 iflag=count_bytes status=none",
                "can_extents=exit 0",
                // data below 256 KiB and from 960 KiB on, a hole between
                "extents=end=$(( ($4 / 65536 + 1) * 65536 )); [ $end -gt $(( $4 + $3 )) ] && end=$(( $4 + $3 ));"
                        + " echo $4 $(( end - $4 )) $(( $4 < 262144 || $4 >= 983040 ? 0 : 3 ))"));

        try (NbdSource nbd = NbdSource.connectUnix(socket, VDA, NbdSource.BASE_ALLOCATION)) {
            assertThat(nbd.extents(0, MIB)).containsExactly(new Extent(0, 256 * KIB, true),
                    new Extent(256 * KIB, 704 * KIB, false), new Extent(960 * KIB, 64 * KIB, true));
            assertThat(nbd.extents(100, 300 * KIB + 5)).containsExactly(new Extent(100, 256 * KIB - 100, true),
                    new Extent(256 * KIB, 44 * KIB + 5, false));
        }
    }

    @Test
    void overTcpOnLoopback() throws IOException {
        Path image = qcow2("disk.qcow2", 16 * MIB, "write -P 0x61 2M 64k");
        int port = NbdServer.freeLoopbackPort();
        servers.add(NbdServer.qemuNbdOnLoopback(image, "qcow2", port));

        try (NbdSource nbd = NbdSource.connectTcp("127.0.0.1", port, VDA, NbdSource.BASE_ALLOCATION)) {
            assertThat(nbd.name()).isEqualTo("NBD export 'vda' on 127.0.0.1:" + port);
            assertThat(nbd.extents(0, 16 * MIB)).containsExactly(new Extent(0, 2 * MIB, false),
                    new Extent(2 * MIB, 64 * KIB, true), new Extent(2 * MIB + 64 * KIB, 14 * MIB - 64 * KIB, false));
            ByteBuffer read = ByteBuffer.allocateDirect((int) (64 * KIB));
            nbd.read(read, 2 * MIB);
            assertThat(read.flip()).isEqualTo(ByteBuffer.wrap(filled(64 * KIB, 0x61)));
        }
    }

    @Test
    void aMissingOrRefusingSocketFailsNamingItAndTheExport() throws IOException {
        Path missing = dir.resolve("no-such.sock");
        assertThatThrownBy(() -> NbdSource.connectUnix(missing, VDA, NbdSource.BASE_ALLOCATION))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("cannot connect to NBD export 'vda' on unix socket " + missing + ": ")
                .hasMessageNotContaining("\n");

        Path refusing = dir.resolve("nobody-listens.sock");
        ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(refusing)).close();
        assertThat(refusing).as("premise: the socket file stays").exists();
        assertThatThrownBy(() -> NbdSource.connectUnix(refusing, VDA, NbdSource.BASE_ALLOCATION))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("cannot connect to NBD export 'vda' on unix socket " + refusing + ": ");

        int port = NbdServer.freeLoopbackPort();
        assertThatThrownBy(() -> NbdSource.connectTcp("127.0.0.1", port, VDA, NbdSource.BASE_ALLOCATION))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("cannot connect to NBD export 'vda' on 127.0.0.1:" + port + ": ");
    }

    @Test
    void aWrongExportOrAContextNotOfferedFailsNamingThem() throws IOException {
        Path image = qcow2("disk.qcow2", 8 * MIB, "write -P 0x01 0 64k");
        Path socket = serve(image, "qcow2");

        assertThatThrownBy(() -> NbdSource.connectUnix(socket, "sdb", NbdSource.BASE_ALLOCATION))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("cannot connect to NBD export 'sdb' on unix socket " + socket + ": ")
                .hasMessageNotContaining("\n");
        assertThatThrownBy(() -> NbdSource.connectUnix(socket, VDA, NbdSource.dirtyBitmap("b0")))
                .isInstanceOf(IOException.class)
                .hasMessage("NBD export 'vda' on unix socket " + socket
                        + " does not offer the meta context qemu:dirty-bitmap:b0");
        assertThatThrownBy(() -> NbdSource.connectUnix(socket, VDA, "qemu:allocation-depth"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("qemu:allocation-depth");

        try (NbdSource nbd = NbdSource.connectUnix(socket, VDA, NbdSource.BASE_ALLOCATION)) {
            assertThat(nbd.extents(0, 64 * KIB)).as("the server still serves after the failures")
                    .containsExactly(new Extent(0, 64 * KIB, true));
            nbd.close();
            assertThatThrownBy(() -> nbd.read(ByteBuffer.allocateDirect(512), 0)).hasMessageContaining("closed");
            assertThatThrownBy(() -> nbd.extents(0, 512)).hasMessageContaining("closed");
        }
    }

    private Path serve(Path image, String format, String... extra) throws IOException {
        Path socket = dir.resolve("nbd-" + servers.size() + ".sock");
        servers.add(NbdServer.qemuNbdOnUnixSocket(image, format, socket, extra));
        return socket;
    }

    private Path qcow2(String name, long size, String... writes) throws IOException {
        Path image = dir.resolve(name);
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), Long.toString(size));
        qemuIo(image, writes);
        return image;
    }

    private static void qemuIo(Path image, String... writes) throws IOException {
        List<String> command = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
        for (String write : writes) {
            command.add("-c");
            command.add(write);
        }
        command.add(image.toString());
        Host.run(command.toArray(String[]::new));
    }

    /** What the guest sees: the image converted to raw by QEMU itself. */
    private Path guestView(Path image) throws IOException {
        Path raw = dir.resolve(image.getFileName() + ".guest.raw");
        Host.run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", image.toString(), raw.toString());
        return raw;
    }

    private static ByteBuffer bytesOf(Path file, long offset, int length) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(length);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            while (bytes.hasRemaining()) {
                if (channel.read(bytes, offset + bytes.position()) < 0) {
                    throw new IOException(file + " ends before " + (offset + length));
                }
            }
        }
        return bytes.flip();
    }

    private static byte[] filled(long length, int value) {
        byte[] bytes = new byte[(int) length];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }
}
