package io.jenkins.plugins.virtbackup.engine.store;

import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.copy.DiskCopier;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.modes.Downtime;
import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Real backups on disk for the store's tests: one of format 2 written by the engine's own copier,
 * and one of format 1 as older versions wrote it, its manifest typed out here.
 */
final class TestBackups {
    static final int MIB = 1 << 20;
    /** Where the sparse disk holds data, in chunks; every other chunk of its 8 is a hole. */
    static final List<Integer> DATA_CHUNKS = List.of(0, 3, 6);
    static final int HOLE_CHUNK = 4;
    static final String DEFINITION = "<domain type='kvm'><name>web</name></domain>\n";

    private TestBackups() {
    }

    /** A backup and the manifest record it was written from. */
    record Written(Path dir, Manifest manifest) {
    }

    /**
     * The source images: an 8 MiB sparse raw disk with 64 KiB of data at the start of each of
     * {@link #DATA_CHUNKS}, and a RAM state of 2.5 MiB plus a few bytes, all data, so that its last
     * chunk is a short one.
     */
    static Path sources(Path dir) throws IOException {
        Path sources = Files.createDirectories(dir.resolve("sources"));
        Random random = new Random(10);
        try (RandomAccessFile disk = new RandomAccessFile(sources.resolve("web.raw").toFile(), "rw")) {
            disk.setLength(8L * MIB);
            for (int chunk : DATA_CHUNKS) {
                byte[] data = new byte[64 << 10];
                random.nextBytes(data);
                disk.seek((long) chunk * MIB);
                disk.write(data);
            }
        }
        byte[] memory = new byte[5 * MIB / 2 + 123];
        random.nextBytes(memory);
        Files.write(sources.resolve("memory.state"), memory);
        Files.writeString(sources.resolve("domain.xml"), DEFINITION, StandardCharsets.UTF_8);
        return sources;
    }

    /** A complete format 2 backup of {@link #sources}, written the way the engine writes one. */
    static Written format2(Path dir) throws IOException {
        Path sources = sources(dir);
        Path backup = Files.createDirectories(dir.resolve("backups/web/20261203T101500Z"));
        DiskCopier copier = new DiskCopier(() -> false, new LinuxFileExtents(), BackupDirectory.FILE_MODE);
        Path disk = sources.resolve("web.raw");
        List<BackedUpFile> files = List.of(
                new BackedUpFile("domain.xml", "definition",
                        copier.copy(sources.resolve("domain.xml"), backup.resolve("domain.xml"), null, null),
                        null, "test:///default", null),
                new BackedUpFile("vda.raw", BackedUpFile.DISK,
                        copier.copy(disk, backup.resolve("vda.raw"), null, null), "vda", disk.toString(), "raw"),
                new BackedUpFile("memory.state", "memory",
                        copier.copy(sources.resolve("memory.state"), backup.resolve("memory.state"), null, null),
                        null, "test:///default", null));
        Manifest manifest = new Manifest("1.0-test", "web", "6695eb01-f6a4-8304-79aa-97f2502e193f", "test:///default",
                BackupMode.SUSPEND, DomainState.RUNNING, Instant.parse("2026-12-03T10:15:00Z"),
                Instant.parse("2026-12-03T10:15:07.250Z"), new Downtime(412, Downtime.HYPERVISOR), files,
                Map.of("hdc", "cdrom"), Map.of("vda", BackingChain.single(disk, "raw")));
        Files.writeString(backup.resolve(Manifest.FILE_NAME), manifest.toJson(), StandardCharsets.UTF_8);
        return new Written(backup, manifest);
    }

    /**
     * A complete format 1 backup of {@link #sources}: the same files (the disk as sparse as its
     * source) without chunk indexes, and a manifest as the last version of format 1 wrote it, with
     * each file's whole SHA-256.
     */
    static Path format1(Path dir) throws IOException {
        Path sources = sources(dir);
        Path backup = Files.createDirectories(dir.resolve("backups/web/20261130T023000Z"));
        Files.copy(sources.resolve("domain.xml"), backup.resolve("domain.xml"));
        Files.copy(sources.resolve("memory.state"), backup.resolve("memory.state"));
        copySparse(sources.resolve("web.raw"), backup.resolve("vda.raw"));
        String manifest = """
                {
                  "format": 1,
                  "tool": "virt-backup",
                  "version": "0.9",
                  "domain": {"name": "web", "uuid": "6695eb01-f6a4-8304-79aa-97f2502e193f"},
                  "hypervisor": "test:///default",
                  "mode": "suspend",
                  "stateFound": "running",
                  "start": "2026-11-30T02:30:00Z",
                  "end": "2026-11-30T02:30:09Z",
                  "downtimeMs": 390,
                  "downtimeMeasuredBy": "hypervisor",
                  "result": "complete",
                  "files": [
                    {"name": "domain.xml", "kind": "definition", "size": %d, "sha256": "%s",
                     "target": null, "source": "test:///default", "format": null},
                    {"name": "vda.raw", "kind": "disk", "size": %d, "sha256": "%s",
                     "target": "vda", "source": "%s", "format": "raw"},
                    {"name": "memory.state", "kind": "memory", "size": %d, "sha256": "%s",
                     "target": null, "source": "test:///default", "format": null}
                  ],
                  "skipped": {"hdc": "cdrom"},
                  "sourceChains": {"vda": [{"path": "%s", "format": "raw"}]}
                }
                """.formatted(
                Files.size(backup.resolve("domain.xml")), Trees.sha256(backup.resolve("domain.xml")),
                Files.size(backup.resolve("vda.raw")), Trees.sha256(backup.resolve("vda.raw")),
                sources.resolve("web.raw"),
                Files.size(backup.resolve("memory.state")), Trees.sha256(backup.resolve("memory.state")),
                sources.resolve("web.raw"));
        Files.writeString(backup.resolve(Manifest.FILE_NAME), manifest, StandardCharsets.UTF_8);
        return backup;
    }

    /** Copies a file as {@code cp --sparse=always} does: holes stay holes, as format 1 copies were. */
    private static void copySparse(Path from, Path to) throws IOException {
        try (RandomAccessFile in = new RandomAccessFile(from.toFile(), "r");
             RandomAccessFile out = new RandomAccessFile(to.toFile(), "rw")) {
            byte[] block = new byte[4096];
            for (long at = 0; at < in.length(); at += block.length) {
                int length = (int) Math.min(block.length, in.length() - at);
                in.seek(at);
                in.readFully(block, 0, length);
                if (!isZeros(block, length)) {
                    out.seek(at);
                    out.write(block, 0, length);
                }
            }
            out.setLength(in.length());
        }
    }

    private static boolean isZeros(byte[] block, int length) {
        for (int i = 0; i < length; i++) {
            if (block[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** Replaces one byte of {@code file} with a different one; returns what it was. */
    static byte flipByte(Path file, long offset) throws IOException {
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.seek(offset);
            byte was = out.readByte();
            out.seek(offset);
            out.writeByte(was ^ 0x5a);
            return was;
        }
    }

    /** Writes {@code value} at {@code offset} of {@code file}, without changing its length. */
    static void writeByte(Path file, long offset, int value) throws IOException {
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.seek(offset);
            out.writeByte(value);
        }
    }
}
