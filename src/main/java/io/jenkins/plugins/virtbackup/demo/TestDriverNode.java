package io.jenkins.plugins.virtbackup.demo;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Builds a hypervisor for libvirt's test driver: a node XML of our own whose domains use real disk
 * image files, reached as {@code test:///ABSOLUTE/PATH/node.xml}. Each connection to that URI starts
 * from the XML afresh, so a run can never harm anything but the files it was given. Used by the
 * demo and by the tests.
 */
public final class TestDriverNode {
    private static final String TEST_NS = "http://libvirt.org/schemas/domain/test/1.0";
    /** The test driver's run states (virDomainState numbers). */
    public enum RunState { RUNNING(1), PAUSED(3), SHUT_OFF(5);
        final int number;

        RunState(int number) {
            this.number = number;
        }
    }

    private final Path dir;
    private final List<String> domains = new ArrayList<>();

    public TestDriverNode(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir).toAbsolutePath();
    }

    public Path dir() {
        return dir;
    }

    /**
     * A raw image of {@code size} bytes: {@code data} bytes of seeded random content at its start and
     * as much again in its middle, holes everywhere else.
     */
    public Path rawImage(String fileName, long size, int data, long seed) throws IOException {
        Path image = dir.resolve(fileName);
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(size);
            byte[] bytes = new byte[data];
            new Random(seed).nextBytes(bytes);
            file.write(bytes);
            file.seek(size / 2);
            file.write(bytes, 0, (int) Math.min(data, size - size / 2));
        }
        return image;
    }

    /** A qcow2 image of {@code size} bytes with {@code dataMiB} MiB written at its start, made by qemu-img and qemu-io. */
    public Path qcow2Image(String fileName, long size, int dataMiB) throws IOException {
        Path image = dir.resolve(fileName);
        run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), Long.toString(size));
        run("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 " + dataMiB + "M", image.toString());
        return image;
    }

    /** XML of a file-backed disk. */
    public static String fileDisk(String target, Path image, String format) {
        return "<disk type='file' device='disk'><driver name='qemu' type='" + format + "'/>"
                + "<source file='" + escape(image.toString()) + "'/><target dev='" + target + "' bus='virtio'/></disk>";
    }

    /** XML of a disk on a block device. */
    public static String blockDisk(String target, Path device) {
        return "<disk type='block' device='disk'><driver name='qemu' type='raw'/>"
                + "<source dev='" + escape(device.toString()) + "'/><target dev='" + target + "' bus='virtio'/></disk>";
    }

    /** XML of an empty cdrom drive. */
    public static String emptyCdrom(String target) {
        return "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
                + "<target dev='" + target + "' bus='ide'/><readonly/></disk>";
    }

    /** XML of a network disk, which backups skip. */
    public static String networkDisk(String target) {
        return "<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
                + "<source protocol='nbd' name='export'><host name='127.0.0.1' port='10809'/></source>"
                + "<target dev='" + target + "' bus='virtio'/></disk>";
    }

    public TestDriverNode domain(String name, RunState state, boolean persistent, String... disks) {
        StringBuilder xml = new StringBuilder()
                .append("  <domain type='test' xmlns:test='").append(TEST_NS).append("'>\n")
                .append("    <name>").append(escape(name)).append("</name>\n")
                // A fixed UUID: every connection re-reads the XML, and a saved state names its UUID.
                .append("    <uuid>").append(UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)))
                .append("</uuid>\n")
                .append("    <memory unit='MiB'>16</memory>\n")
                .append("    <os><type>hvm</type></os>\n")
                .append("    <test:runstate>").append(state.number).append("</test:runstate>\n");
        if (!persistent) {
            xml.append("    <test:transient/>\n");
        }
        xml.append("    <devices>\n");
        for (String disk : disks) {
            xml.append("      ").append(disk).append('\n');
        }
        domains.add(xml.append("    </devices>\n  </domain>\n").toString());
        return this;
    }

    /** Writes the node XML and returns the URI that opens it. */
    public String write() throws IOException {
        Path node = dir.resolve("node.xml");
        Files.writeString(node, "<node>\n" + String.join("", domains) + "</node>\n", StandardCharsets.UTF_8);
        return "test://" + node;
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("'", "&apos;").replace("\"", "&quot;");
    }

    private static void run(String... command) throws IOException {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException(command[0] + " is needed to make qcow2 images (Debian package qemu-utils)", e);
        }
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + output.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command[0], e);
        }
    }
}
