package io.jenkins.plugins.virtbackup.qemu;

import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.HostRequirement;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * A Debian guest whose kernel has device-mapper, for what this host's kernel cannot do: real LVM
 * under the packaged command line. Built once per machine by {@code src/test/guest/build-dm-guest.sh}
 * (mmdebstrap from apt's Debian mirror: Debian's kernel, lvm2, Java 17, libvirt0) and cached by
 * the recipe's checksum beside the small test guest.
 *
 * <p>Each {@link #run} boots a fresh copy (a qcow2 overlay over the cached root) in plain QEMU, with
 * an empty virtio disk {@code /dev/vdb} for LVM and a 9p share at {@code /vbt}: the guest runs
 * {@code /vbt/in/run.sh} (the given script, beside the given files), leaves what it writes to
 * {@code /vbt/out} and its exit status, and powers off. Plain QEMU rather than libvirt: the guest
 * is the test's own process, nothing on the hypervisor is defined, and a timeout kills exactly it.
 */
final class DmGuest {
    private static final Path RECIPE = Path.of("src/test/guest/build-dm-guest.sh");
    private static final Path CACHE = Path.of("/var/cache/virt-backup-tests");
    /** A first build downloads ~300 MB of packages: room for a slow mirror. */
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(20);
    private static final int MEMORY_MIB = 1024;
    private static final int CPUS = 2;

    /**
     * How a run ended.
     *
     * @param exitCode the script's exit status, as the guest wrote it
     * @param console  the serial console: the kernel's messages and the script's output
     * @param out      what the script left in {@code /vbt/out} (its output in {@code output.log})
     * @param boot     from starting QEMU until the guest started the script
     * @param total    from starting QEMU until it ended
     */
    record Result(int exitCode, String console, Path out, Duration boot, Duration total) {
        String file(String name) throws IOException {
            return Files.readString(out.resolve(name), StandardCharsets.UTF_8);
        }
    }

    private static Path image;
    /** A build that failed fails the other tests of this JVM at once, not after a build each. */
    private static IOException buildFailure;

    private DmGuest() {
    }

    /**
     * The built guest (vmlinuz, initrd.img, root.img), built first if this recipe has not been
     * built here yet. Skips without root, QEMU or mmdebstrap; under CI=true it fails instead.
     */
    static synchronized Path image() throws IOException, InterruptedException {
        if (image != null) {
            return image;
        }
        if (buildFailure != null) {
            throw new IOException("the device-mapper guest did not build (see the first test that failed)",
                    buildFailure);
        }
        HostRequirement.requireRoot("the device-mapper guest (mmdebstrap --mode=root, a 9p share as root)");
        HostRequirement.requireCommand("qemu-system-x86_64", "qemu-system-x86");
        HostRequirement.requireCommand("qemu-img", "qemu-utils");
        Path out = CACHE.resolve("dm-guest-" + Trees.sha256(RECIPE).substring(0, 12));
        if (!Files.exists(out.resolve("build-info.txt"))) {
            HostRequirement.requireCommand("mmdebstrap", "mmdebstrap");
            HostRequirement.requireCommand("mkfs.ext4", "e2fsprogs");
            long started = System.nanoTime();
            try {
                build(out);
            } catch (IOException e) {
                buildFailure = e;
                throw e;
            }
            System.out.printf("built the device-mapper guest %s in %.0f s%n", out,
                    (System.nanoTime() - started) / 1e9);
        }
        image = out;
        return image;
    }

    /** Runs the recipe, its output in a log beside the result: minutes, longer than Host.run waits. */
    private static void build(Path out) throws IOException, InterruptedException {
        Files.createDirectories(CACHE);
        Path log = CACHE.resolve(out.getFileName() + ".build.log");
        ProcessBuilder builder = new ProcessBuilder("bash", RECIPE.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("OUT", out.toString());
        Process build = builder.start();
        if (!build.waitFor(BUILD_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            // The recipe's own children (mmdebstrap, apt, dpkg) first: they would outlive bash.
            build.descendants().forEach(ProcessHandle::destroyForcibly);
            build.destroyForcibly().waitFor();
            throw new IOException("building the device-mapper guest took over " + BUILD_TIMEOUT + "; log: " + log);
        }
        if (build.exitValue() != 0 || !Files.exists(out.resolve("build-info.txt"))) {
            throw new IOException("building the device-mapper guest failed (exit " + build.exitValue() + "):\n"
                    + tail(Files.readString(log), 40));
        }
    }

    /**
     * Boots a fresh guest that runs {@code script} with {@code files} beside it (name in the guest
     * to file on the host), a {@code pvMiB} MiB empty disk as /dev/vdb, and waits until it powers
     * off. Its results are moved into {@code results}; everything else it used is deleted, also on a
     * timeout or a failure, when the QEMU process is killed.
     */
    static Result run(String purpose, String script, Map<String, Path> files, int pvMiB, Duration timeout,
                      Path results) throws Exception {
        Path guest = image();
        String name = "vbt-dm-" + purpose + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        Path dir = Files.createDirectories(QemuTestBed.WORK.resolve(name));
        Process qemu = null;
        try (SerialLog serial = new SerialLog(dir.resolve("serial.log"))) {
            Path in = Files.createDirectories(dir.resolve("share/in"));
            Files.createDirectories(dir.resolve("share/out"));
            Files.writeString(in.resolve("run.sh"), script, StandardCharsets.UTF_8);
            for (Map.Entry<String, Path> file : files.entrySet()) {
                Files.copy(file.getValue(), in.resolve(file.getKey()));
            }
            Host.run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                    guest.resolve("root.img").toString(), dir.resolve("root.qcow2").toString());
            Host.run("qemu-img", "create", "-q", "-f", "raw", dir.resolve("pv.img").toString(), pvMiB + "M");

            long started = System.nanoTime();
            qemu = new ProcessBuilder(qemuCommand(guest, dir)).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("qemu.log").toFile()).start();
            if (!qemu.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new TimeoutException("guest " + name + " did not power off within " + timeout
                        + "; console:\n" + serial.tail(40));
            }
            long ended = System.nanoTime();
            if (!Files.exists(dir.resolve("share/out/exit-code"))) {
                throw new IOException("guest " + name + " ended (QEMU exit " + qemu.exitValue()
                        + ") without its script's exit status; console:\n" + tail(Files.readString(
                        dir.resolve("serial.log"), StandardCharsets.ISO_8859_1), 40)
                        + "\nQEMU: " + Files.readString(dir.resolve("qemu.log")));
            }
            // The follower stamps lines as it reads them: give it the time to reach the file's end.
            serial.waitFor("VBT-POWEROFF", started, Duration.ofSeconds(5));
            Duration boot = Duration.ofNanos(serial.waitFor("VBT-RUN", started, Duration.ZERO).arrivedNanos()
                    - started);
            Path out = Files.createDirectories(results);
            moveContents(dir.resolve("share/out"), out);
            return new Result(Integer.parseInt(Files.readString(out.resolve("exit-code")).strip()),
                    Files.readString(dir.resolve("serial.log"), StandardCharsets.ISO_8859_1), out, boot,
                    Duration.ofNanos(ended - started));
        } finally {
            if (qemu != null && qemu.isAlive()) {
                qemu.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
            deleteTree(dir);
        }
    }

    /**
     * QEMU with the kernel and initramfs of the build booted directly: the root on vda through the
     * run's overlay, the LVM disk on vdb, the share tagged "vbt", the console into serial.log. TCG
     * where the CPU has no VT-x/AMD-V; power off ends QEMU, and so does a panic (no reboot).
     */
    private static List<String> qemuCommand(Path guest, Path dir) throws IOException {
        String accel = QemuTestBed.domainType().equals("kvm") ? "kvm" : "tcg";
        return new ArrayList<>(List.of("qemu-system-x86_64",
                "-machine", "pc,accel=" + accel, "-cpu", "max", "-smp", Integer.toString(CPUS),
                "-m", Integer.toString(MEMORY_MIB),
                "-nodefaults", "-display", "none", "-monitor", "none", "-no-reboot",
                "-kernel", guest.resolve("vmlinuz").toString(), "-initrd", guest.resolve("initrd.img").toString(),
                "-append", "console=ttyS0 root=/dev/vda rw init=/opt/vbtest/init panic=-1 quiet",
                "-drive", "file=" + dir.resolve("root.qcow2") + ",format=qcow2,if=virtio",
                "-drive", "file=" + dir.resolve("pv.img") + ",format=raw,if=virtio",
                "-virtfs", "local,path=" + dir.resolve("share") + ",mount_tag=vbt,security_model=none",
                "-serial", "file:" + dir.resolve("serial.log")));
    }

    private static void moveContents(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.toList()) {
                Files.move(file, to.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }
}
