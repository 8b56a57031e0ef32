package io.jenkins.plugins.virtbackup.qemu;

import io.jenkins.plugins.virtbackup.testing.Host;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * One running test domain on the real hypervisor: a unique name ({@code vbt-PURPOSE-RANDOM}), its
 * own folder with its disks, serial log and command socket. Closing it destroys and undefines the
 * domain and deletes the folder, also when the test failed.
 */
final class TestGuest implements AutoCloseable {
    /**
     * A disk to create: target, format (qcow2 or raw), size in MiB, and how many images its qcow2
     * image reads through (0: none; 1: a linked clone of a template; 2: a clone of a clone), each
     * in the guest's {@code templates/} folder with data of its own. The bottom one is a sparse raw
     * image (a golden image), those above it qcow2.
     */
    record DiskSpec(String target, String format, int sizeMiB, int backingImages) {
        DiskSpec(String target, String format, int sizeMiB) {
            this(target, format, sizeMiB, 0);
        }

        String fileName() {
            return target + "-image." + format;
        }

        /** The image {@code level} below the top one (1 = right below it). */
        String backingFileName(int level) {
            return target + "-template-" + level + "." + backingFormat(level);
        }

        String backingFormat(int level) {
            return level == backingImages ? "raw" : "qcow2";
        }
    }

    /** Where the images below the guests' top images live, apart from them like a template library. */
    static final String TEMPLATES = "templates";

    final String name;
    final Path dir;
    final List<DiskSpec> disks;
    final SerialLog serial;

    private TestGuest(String name, Path dir, List<DiskSpec> disks, SerialLog serial) {
        this.name = name;
        this.dir = dir;
        this.disks = disks;
        this.serial = serial;
    }

    /** A step run on a guest's freshly made images, before it is defined and started. */
    @FunctionalInterface
    interface BeforeStart {
        void prepare(TestGuest guest) throws Exception;
    }

    /**
     * What a test adds to a guest beyond its disks and kernel command line.
     *
     * @param devicesXml  more {@code <devices>} children, e.g. a network interface
     * @param beforeStart run on the images before the first start (e.g. to write a boot signature)
     */
    record Extras(String devicesXml, BeforeStart beforeStart) {
        static final Extras NONE = new Extras("", guest -> { });
    }

    /** Defines and starts a guest with the given disks and extra kernel command line, waits until it is ready. */
    static TestGuest start(String purpose, String cmdline, DiskSpec... disks) throws Exception {
        return start(purpose, cmdline, Extras.NONE, disks);
    }

    /** The same, with devices of the test's own and a step on the images before the guest starts. */
    static TestGuest start(String purpose, String cmdline, Extras extras, DiskSpec... disks) throws Exception {
        Path guest = QemuTestBed.guest();
        String name = "vbt-" + purpose + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        Path dir = Files.createDirectories(QemuTestBed.WORK.resolve(name));
        Host.run("chmod", "777", dir.toString());  // QEMU (libvirt-qemu) creates the command socket here
        for (DiskSpec disk : disks) {
            createImages(dir, disk);
        }
        Path xml = dir.resolve("domain.xml");
        Files.writeString(xml, domainXml(name, dir, guest, cmdline, extras.devicesXml(), disks));
        SerialLog serial = new SerialLog(dir.resolve("serial.log"));
        TestGuest testGuest = new TestGuest(name, dir, List.of(disks), serial);
        try {
            extras.beforeStart().prepare(testGuest);
            Host.run("virsh", "-c", QemuTestBed.URI, "define", xml.toString());
            long started = System.nanoTime();
            Host.run("virsh", "-c", QemuTestBed.URI, "start", name);
            serial.waitFor("ANC-READY", started, Duration.ofSeconds(120));
            return testGuest;
        } catch (Exception e) {
            testGuest.close();
            throw e;
        }
    }

    /** The disk's image chain: the bottom template first, each written with a byte pattern of its own. */
    private static void createImages(Path dir, DiskSpec disk) throws IOException {
        String below = null;
        String belowFormat = null;
        for (int level = disk.backingImages(); level >= 1; level--) {
            Path image = Files.createDirectories(dir.resolve(TEMPLATES)).resolve(disk.backingFileName(level));
            String format = disk.backingFormat(level);
            createImage(image, format, disk.sizeMiB(), below, belowFormat);
            // Each level writes 1 MiB of its own pattern at its own place, past the 8 MiB the tests'
            // guests write, so that the guest's disk shows every level's data.
            Host.run("qemu-io", "-f", format, "-c", "write -P 0x" + (40 + level) + " " + (8 + 2 * level) + "M 1M",
                    image.toString());
            below = image.toString();
            belowFormat = format;
        }
        createImage(dir.resolve(disk.fileName()), disk.format(), disk.sizeMiB(), below, belowFormat);
    }

    private static void createImage(Path image, String format, int sizeMiB, String backing, String backingFormat)
            throws IOException {
        if (backing == null) {
            Host.run("qemu-img", "create", "-q", "-f", format, image.toString(), sizeMiB + "M");
        } else {
            Host.run("qemu-img", "create", "-q", "-f", format, "-F", backingFormat, "-b", backing, image.toString());
        }
    }

    /** The images below disk {@code target}'s top image, right below it first. */
    List<Path> templates(String target) {
        DiskSpec spec = disks.stream().filter(d -> d.target().equals(target)).findFirst().orElseThrow();
        List<Path> images = new ArrayList<>();
        for (int level = 1; level <= spec.backingImages(); level++) {
            images.add(dir.resolve(TEMPLATES).resolve(spec.backingFileName(level)));
        }
        return images;
    }

    Path image(String target) {
        return disks.stream().filter(d -> d.target().equals(target)).findFirst()
                .map(d -> dir.resolve(d.fileName())).orElseThrow();
    }

    /** Sends a command line to the guest's ttyS1 and waits for its echo, resending while it is not taken. */
    void command(String line) throws Exception {
        long sent = System.nanoTime();
        for (int attempt = 0; attempt < 3; attempt++) {
            try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("cmd.sock")))) {
                channel.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
                Thread.sleep(50);
            }
            try {
                serial.waitFor("^ANC-CMD " + line.split(" ")[0], sent, Duration.ofSeconds(5));
                return;
            } catch (TimeoutException e) {
                // The guest had not opened its port yet: send again.
            }
        }
        throw new TimeoutException("guest " + name + " did not take command '" + line + "'");
    }

    /** Has the guest write its pattern once ({@code write S N [K]}) and waits until the data is synced. */
    void writeOnce(String command) throws Exception {
        long sent = System.nanoTime();
        command(command);
        serial.waitFor("ANC-WRITER-END", sent, Duration.ofSeconds(120));
        command("sync");
    }

    /** A clean power off from inside the guest, waited for until libvirt reports it shut off. */
    void powerOff() throws Exception {
        long sent = System.nanoTime();
        command("poweroff");
        serial.waitFor("ANC-POWEROFF ", sent, Duration.ofSeconds(60));
        awaitState("shut off");
    }

    /** Waits up to a minute for libvirt to report {@code expected} ({@code virsh domstate}). */
    void awaitState(String expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!state().equals(expected)) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("domain " + name + " is " + state() + ", not " + expected);
            }
            Thread.sleep(200);
        }
    }

    String virsh(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("virsh", "-c", QemuTestBed.URI));
        command.addAll(List.of(args));
        return Host.run(command.toArray(String[]::new));
    }

    String state() throws IOException {
        return virsh("domstate", name).strip();
    }

    /** The disk sources the running domain uses now, e.g. "vda /path". */
    List<String> blockList() throws IOException {
        return virsh("domblklist", name).lines().skip(2).map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    @Override
    public void close() throws Exception {
        serial.close();
        try {
            virsh("destroy", name);
        } catch (IOException notRunning) {
            // Already shut off.
        }
        try {
            virsh("undefine", name, "--snapshots-metadata", "--checkpoints-metadata");
        } catch (IOException e) {
            // A test may have undefined the domain itself (and failed before defining it again).
            if (virsh("list", "--all", "--name").lines().anyMatch(name::equals)) {
                virsh("undefine", name);
            }
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static String domainXml(String name, Path dir, Path guest, String cmdline, String extraDevices,
                                    DiskSpec... disks) throws IOException {
        StringBuilder devices = new StringBuilder();
        for (DiskSpec disk : disks) {
            devices.append("<disk type='file' device='disk'><driver name='qemu' type='").append(disk.format())
                    .append("'/><source file='").append(dir.resolve(disk.fileName()))
                    .append("'/><target dev='").append(disk.target()).append("' bus='virtio'/></disk>\n");
        }
        return "<domain type='" + QemuTestBed.domainType() + "'>\n"
                + "  <name>" + name + "</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>\n"
                + "  <os><type arch='x86_64' machine='pc'>hvm</type>\n"
                + "    <kernel>" + guest.resolve("vmlinuz") + "</kernel><initrd>" + guest.resolve("initramfs.img")
                + "</initrd>\n"
                + "    <cmdline>console=ttyS0 quiet panic=-1 " + cmdline + "</cmdline></os>\n"
                + "  <features><acpi/></features>\n"
                + "  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>\n"
                + "  <devices>\n" + devices
                + "    <serial type='file'><source path='" + dir.resolve("serial.log") + "' append='on'/>"
                + "<target port='0'/></serial>\n"
                + "    <serial type='unix'><source mode='bind' path='" + dir.resolve("cmd.sock") + "'/>"
                + "<target port='1'/></serial>\n"
                + "    <memballoon model='none'/>\n"
                + extraDevices
                + (cmdline.contains("anc.agent=") ? "    <channel type='unix'>"
                        + "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>\n" : "")
                + "  </devices>\n</domain>\n";
    }
}
