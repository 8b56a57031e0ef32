package io.jenkins.plugins.virtbackup.engine.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkIndex;
import io.jenkins.plugins.virtbackup.engine.copy.FileDigest;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.modes.Downtime;
import io.jenkins.plugins.virtbackup.testing.Host;
import io.jenkins.plugins.virtbackup.testing.Trees;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one manifest reader: what the engine writes reads back the same; what it cannot stand behind is refused. */
class ManifestTest {
    private static final String DIGEST_A = "a".repeat(64);
    private static final String DIGEST_B = "0123456789abcdef".repeat(4);
    private static final String FULL = "20261207T020000Z";
    private static final String INC1 = "20261208T020000Z";
    private static final String INC2 = "20261209T020000Z";

    @TempDir
    Path dir;

    @Test
    void aBackupsManifestReadsBackAsTheRecordItWasWrittenFrom() throws Exception {
        TestBackups.Written written = TestBackups.format2(dir);

        Manifest read = Manifest.read(written.dir());

        assertThat(read).isEqualTo(written.manifest());
        assertThat(read.format()).isEqualTo(2);
        assertThat(read.files()).extracting(BackedUpFile::name).containsExactly("domain.xml", "vda.raw", "memory.state");
        BackedUpFile disk = read.files().get(1);
        assertThat(disk.size()).isEqualTo(8L * TestBackups.MIB);
        assertThat(disk.checksum()).isInstanceOfSatisfying(BackedUpFile.Chunked.class, chunked -> {
            assertThat(chunked.index().file()).isEqualTo("vda.raw.chunks");
            assertThat(chunked.index().chunks()).isEqualTo(8);
            assertThat(chunked.index().dataChunks()).isEqualTo(TestBackups.DATA_CHUNKS.size());
        });
        assertThat(read.downtime()).isEqualTo(new Downtime(412, Downtime.HYPERVISOR));
        assertThat(read.skipped()).containsExactly(Map.entry("hdc", "cdrom"));
    }

    @Test
    void aRealBackingChainAndAnUnmeasuredDowntimeReadBackEqual() throws Exception {
        Path base = dir.resolve("base.raw");
        Path clone = dir.resolve("clone.qcow2");
        Host.run("qemu-img", "create", "-q", "-f", "raw", base.toString(), "4M");
        Host.run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "base.raw", clone.toString());
        BackingChain chain = BackingChain.of("vda", clone, "qcow2");
        assertThat(chain.top().backing()).isEqualTo("base.raw");
        Manifest written = new Manifest("1.0-test", "odd name 'q\" ü", null, "qemu:///system", BackupMode.LIVE,
                DomainState.SHUT_OFF, Instant.parse("2026-12-03T10:15:00.123456Z"), Instant.parse("2026-12-03T10:16:00Z"),
                new Downtime(-1, Downtime.UNKNOWN), List.of(
                        file("vda.qcow2", BackedUpFile.DISK, "vda.backing-1.raw"),
                        file("vda.backing-1.raw", BackedUpFile.BACKING, null)),
                Map.of(), Map.of("vda", chain));

        Manifest read = Manifest.parse(written.toJson());

        assertThat(read).isEqualTo(written);
        assertThat(read.toJson()).isEqualTo(written.toJson());
        assertThat(read.downtime().isKnown()).isFalse();
    }

    /** A compressed file says so; the field is new in format 2 and absent everywhere else. */
    @Test
    void aCompressedFileReadsBackCompressedAndOthersWithoutTheField() throws Exception {
        BackedUpFile plain = file("vda.backing-1.qcow2", BackedUpFile.BACKING, null);
        BackedUpFile compressed = new BackedUpFile("vda.qcow2", BackedUpFile.DISK, plain.digest(), "vda",
                "/img/vda.qcow2", "qcow2", "vda.backing-1.qcow2", "zstd");
        Manifest written = new Manifest("1.0-test", "web", "uuid-1", "qemu:///system", BackupMode.SUSPEND,
                DomainState.RUNNING, Instant.parse("2026-12-03T10:15:00Z"), Instant.parse("2026-12-03T10:16:00Z"),
                new Downtime(3, Downtime.HOST), List.of(compressed, plain), Map.of(), Map.of());

        String json = written.toJson();
        Manifest read = Manifest.parse(json);

        assertThat(read).isEqualTo(written);
        assertThat(read.format()).as("a new field keeps the format").isEqualTo(2);
        assertThat(read.files()).extracting(BackedUpFile::compression).containsExactly("zstd", null);
        assertThat(json).containsOnlyOnce("\"compression\": \"zstd\"");
        assertThat(Manifest.read(TestBackups.format2(dir).dir()).files()).extracting(BackedUpFile::compression)
                .as("a manifest written before --compress").containsOnlyNulls();
        assertRefused(json.replace("\"compression\": \"zstd\"", "\"compression\": 3"),
                "files[0].compression is not a string");
    }

    /**
     * The data each file moved and whether the run read its files back: new fields of format 2, written
     * by the copier from what it read, absent (null) in manifests written before them.
     */
    @Test
    void theDataMovedAndTheReadBackAreRecordedAndAbsentInOlderManifests() throws Exception {
        TestBackups.Written written = TestBackups.format2(dir);
        Manifest read = Manifest.read(written.dir());

        assertThat(read).isEqualTo(written.manifest());
        assertThat(read.format()).as("new fields keep the format").isEqualTo(2);
        assertThat(read.files()).extracting(BackedUpFile::name, BackedUpFile::dataBytes).containsExactly(
                tuple("domain.xml", (long) TestBackups.DEFINITION.length()),
                tuple("vda.raw", 3L * (64 << 10)),
                tuple("memory.state", (long) (5 * TestBackups.MIB / 2 + 123)));
        assertThat(read.dataBytes()).isEqualTo(TestBackups.DEFINITION.length() + 3L * (64 << 10)
                + 5 * TestBackups.MIB / 2 + 123);
        assertThat(read.verified()).isFalse();
        String json = read.toJson();
        assertThat(json).contains("\"dataBytes\": 196608", "\"verified\": false");
        Manifest verified = Manifest.parse(json.replace("\"verified\": false", "\"verified\": true"));
        assertThat(verified.verified()).isTrue();

        Manifest older = Manifest.parse(json.replaceAll(",\\s*\"dataBytes\": \\d+", "")
                .replaceAll("\\s*\"verified\": false,", ""));
        assertThat(older.files()).extracting(BackedUpFile::dataBytes).containsOnlyNulls();
        assertThat(older.dataBytes()).as("unknown, not zero").isEqualTo(-1);
        assertThat(older.verified()).isNull();
        assertThat(Manifest.parse(older.toJson())).as("written back without them").isEqualTo(older);
        assertRefused(json.replace("\"dataBytes\": 196608", "\"dataBytes\": -1"), "files[1].dataBytes is negative");
        assertRefused(json.replace("\"verified\": false", "\"verified\": \"yes\""),
                "verified is not true or false");
    }

    @Test
    void aFormat1ManifestReadsWithAWholeFileDigestPerFile() throws Exception {
        Path backup = TestBackups.format1(dir);

        Manifest read = Manifest.read(backup);

        assertThat(read.format()).isEqualTo(1);
        assertThat(read.files()).extracting(BackedUpFile::checksum).containsExactly(
                new BackedUpFile.WholeFile(Trees.sha256(backup.resolve("domain.xml"))),
                new BackedUpFile.WholeFile(Trees.sha256(backup.resolve("vda.raw"))),
                new BackedUpFile.WholeFile(Trees.sha256(backup.resolve("memory.state"))));
        assertThat(read.chains().get("vda").images()).singleElement()
                .isEqualTo(new BackingChain.Image(dir.resolve("sources/web.raw"), "raw", null));
        assertThat(Manifest.parse(read.toJson())).as("format 1 written back stays format 1").isEqualTo(read);
        assertThatThrownBy(() -> read.files().get(1).digest()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("vda.raw has no chunk index");
    }

    @Test
    void theOldestFormat1ManifestsLackedWhoMeasuredTheDowntimeAndTheSourceChains() throws Exception {
        String oldest = """
                {"format": 1, "tool": "virt-backup", "version": "0.1",
                 "domain": {"name": "web", "uuid": "u"}, "hypervisor": "test:///default", "mode": "shutdown",
                 "stateFound": "running", "start": "2026-11-30T04:00:00Z", "end": "2026-11-30T04:01:00Z",
                 "downtimeMs": 52000, "result": "complete",
                 "files": [{"name": "domain.xml", "kind": "definition", "size": 10, "sha256": "%s",
                            "target": null, "source": null, "format": null}],
                 "skipped": {}}
                """.formatted(DIGEST_A);

        Manifest read = Manifest.parse(oldest);

        assertThat(read.downtime()).isEqualTo(new Downtime(52000, Downtime.UNKNOWN));
        assertThat(read.chains()).isEmpty();
        assertThat(read.mode()).isEqualTo(BackupMode.SHUTDOWN);
        assertThat(read.increment()).as("written before incremental backups: stands alone")
                .isEqualTo(Increment.STANDALONE);
    }

    @Test
    void aNewerFormatIsRefusedBeforeAnythingElseIsRead() {
        assertRefused("{\"format\": 3, \"something\": \"else entirely\"}",
                "manifest format 3 is newer than this version of virt-backup reads (up to 2); use a newer virt-backup");
    }

    @Test
    void fieldsThatCannotBeAreRefusedNamingTheField() throws Exception {
        String valid = validJson();
        assertRefused(valid.replace("\"format\": 2", "\"format\": 0"), "manifest format 0 does not exist");
        assertRefused(valid.replace("\"format\": 2", "\"format\": \"2\""), "format is not a whole number");
        assertRefused(valid.replace("\"tool\": \"virt-backup\"", "\"tool\": \"other\""),
                "not a manifest of virt-backup (tool: other)");
        assertRefused(valid.replace("\"result\": \"complete\",", ""),
                "the manifest does not say the backup is complete (result: null)");
        assertRefused(valid.replace("\"mode\": \"suspend\"", "\"mode\": \"push\""),
                "mode 'push' is not one of " + BackupMode.allCliNames());
        assertRefused(valid.replace("\"stateFound\": \"running\"", "\"stateFound\": \"dancing\""),
                "stateFound 'dancing' is not a domain state");
        assertRefused(valid.replace("\"start\": \"2026-12-03T10:15:00Z\"", "\"start\": \"yesterday\""),
                "start 'yesterday' is not a UTC time");
        assertRefused(valid.replace("\"name\": \"web\"", "\"name\": 7"), "domain.name is not a string");
        assertRefused(valid.replace("\"size\": 100", "\"size\": -100"), "files[0].size is negative");
        assertRefused(valid.replace("\"sha256\": \"" + DIGEST_A + "\"", "\"sha256\": \"" + DIGEST_A.toUpperCase() + "\""),
                "files[0].chunks.sha256 '" + DIGEST_A.toUpperCase() + "' is not a lowercase hex SHA-256");
        assertRefused(valid.replace("\"name\": \"vda.raw\"", "\"name\": \"domain.xml\""),
                "files[1].name 'domain.xml' is listed twice");
        assertRefused(valid.replace("\"dataChunks\": 3", "\"dataChunks\": 9000"),
                "files[1].chunks.dataChunks 9000 of files[1].chunks.count 8192 cannot be");
        assertRefused("[1, 2]", "the manifest is not a JSON object");
        assertThatThrownBy(() -> Manifest.parse("{\"format\": 2,")).isInstanceOf(InvalidManifestException.class)
                .hasMessageStartingWith("invalid JSON at offset 13");
    }

    @Test
    void aFormat2FileWithoutAChunkIndexIsRefused() throws Exception {
        String json = validJson();
        int start = json.indexOf("\"chunks\": {");
        String withoutIndex = json.substring(0, start) + json.substring(json.indexOf('}', start) + 2);

        assertRefused(withoutIndex, "files[0].chunks is missing");
    }

    @Test
    void namesThatLeaveTheBackupsFolderAreRefused() throws Exception {
        String valid = validJson();
        for (String name : List.of("../x", "/etc/passwd", "sub/vda.raw", "..", ".", "")) {
            assertRefused(valid.replace("\"name\": \"vda.raw\"", "\"name\": \"" + name + "\""),
                    "files[1].name '" + name + "' is not the name of a file in the backup's folder");
            assertRefused(valid.replace("\"file\": \"vda.raw.chunks\"", "\"file\": \"" + name + "\""),
                    "files[1].chunks.file '" + name + "' is not the name of a file in the backup's folder");
            assertRefused(valid.replace("\"backing\": \"vda.backing-1.raw\"", "\"backing\": \"" + name + "\""),
                    "files[1].backing '" + name + "' is not the name of a file in the backup's folder");
        }
    }

    @Test
    void aBackupsPlaceInAChainReadsBack() throws Exception {
        String xml = "<domaincheckpoint>\n  <name>virt-backup-" + INC2 + "</name>\n  <description>taken by "
                + "\"virt-backup\" & co, ü</description>\n</domaincheckpoint>\n";
        Map<String, Increment.DiskChain> disks = new LinkedHashMap<>();
        disks.put("vdb", new Increment.DiskChain(2L << 30, List.of("vdb.qcow2", "../" + INC1 + "/vdb.qcow2",
                "../" + FULL + "/vdb.qcow2")));
        disks.put("vda", new Increment.DiskChain(10L << 30, List.of("vda.qcow2", "../" + INC1 + "/vda.qcow2",
                "../" + FULL + "/vda.qcow2")));
        Manifest written = chained(new Increment(BackupLevel.INC, INC1,
                new Increment.Checkpoint("virt-backup-" + INC2, xml), disks));

        Manifest read = Manifest.parse(written.toJson());

        assertThat(read).isEqualTo(written);
        assertThat(read.toJson()).isEqualTo(written.toJson());
        Increment increment = read.increment();
        assertThat(increment.level()).isEqualTo(BackupLevel.INC);
        assertThat(increment.parent()).isEqualTo(INC1);
        assertThat(increment.checkpoint()).isEqualTo(new Increment.Checkpoint("virt-backup-" + INC2, xml));
        assertThat(increment.disks()).as("in the order written").containsExactly(
                Map.entry("vdb", disks.get("vdb")), Map.entry("vda", disks.get("vda")));
        assertThat(increment.disks().get("vda").size()).isEqualTo(10L << 30);
        assertThat(increment.disks().get("vda").files())
                .containsExactly("vda.qcow2", "../" + INC1 + "/vda.qcow2", "../" + FULL + "/vda.qcow2");
    }

    @Test
    void aFullAndADiffReadBackWithTheirCheckpoints() throws Exception {
        Increment full = new Increment(BackupLevel.FULL, null, new Increment.Checkpoint("virt-backup-" + FULL, "<a/>"),
                Map.of("vda", new Increment.DiskChain(1L << 30, List.of("vda.qcow2"))));
        Increment diff = new Increment(BackupLevel.DIFF, FULL, new Increment.Checkpoint("virt-backup-" + INC1, "<b/>"),
                Map.of("vda", new Increment.DiskChain(1L << 30, List.of("vda.qcow2", "../" + FULL + "/vda.qcow2"))));

        assertThat(Manifest.parse(chained(full).toJson()).increment()).isEqualTo(full);
        assertThat(Manifest.parse(chained(diff).toJson()).increment()).isEqualTo(diff);
    }

    @Test
    void aLevelOrParentThatCannotBeIsRefused() throws Exception {
        String valid = chainedJson();
        String level = "\"level\": \"inc\"";
        String parent = "\"parent\": \"" + FULL + "\"";
        assertRefused(valid.replace(level, "\"level\": \"auto\""), "level 'auto' is not full, inc or diff");
        assertRefused(valid.replace(level, "\"level\": \"weekly\""), "level 'weekly' is not full, inc or diff");
        assertRefused(valid.replace(parent, "\"parent\": null"), "level inc needs a parent");
        assertRefused(valid.replace(parent, "\"parent\": null").replace(level, "\"level\": \"diff\""),
                "level diff needs a parent");
        assertRefused(valid.replace(level, "\"level\": \"full\""), "level full has no parent");
        for (String name : List.of("../" + FULL, "/srv/backups/web/" + FULL, "..", ".")) {
            assertRefused(valid.replace(parent, "\"parent\": \"" + name + "\""),
                    "parent '" + name + "' is not the name of a file in the backup's folder");
        }
    }

    @Test
    void aChainFileOutsideTheBackupOrItsSiblingsIsRefused() throws Exception {
        String valid = chainedJson();
        String own = "\"vda.qcow2\"";
        String parents = "\"../" + FULL + "/vda.qcow2\"";
        for (String name : List.of("a/b", "../" + FULL + "/vda.qcow2", "/abs", "..", "")) {
            assertRefused(valid.replace(own, "\"" + name + "\""),
                    "backupChains.vda.files[0] '" + name + "' is not a file in the backup's folder");
        }
        for (String name : List.of("../../x", "/abs", "vda.qcow2", "../" + FULL + "/sub/vda.qcow2",
                "../" + FULL + "/..", "../../" + FULL + "/vda.qcow2", "./" + FULL + "/vda.qcow2")) {
            assertRefused(valid.replace(parents, "\"" + name + "\""),
                    "backupChains.vda.files[1] '" + name + "' is not a file of a sibling backup (../FOLDER/NAME)");
        }
        assertRefused(valid.replace(parents, "7"), "backupChains.vda.files[1] is not a string");
    }

    @Test
    void aRecordMixingFormatsCannotBeMade() {
        BackedUpFile whole = new BackedUpFile("domain.xml", "definition", 10, new BackedUpFile.WholeFile(DIGEST_A),
                null, null, null, null);

        assertThatThrownBy(() -> manifest(2, List.of(whole))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("domain.xml: a manifest of format 2 cannot hold a whole-file SHA-256");
        assertThatThrownBy(() -> manifest(1, List.of(file("vda.raw", BackedUpFile.DISK, null))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("vda.raw: a manifest of format 1 cannot hold a chunk index");
        assertThatThrownBy(() -> manifest(3, List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    /** A format 2 manifest whose files exist nowhere: enough for what the reader checks. */
    private static String validJson() throws InvalidManifestException {
        String json = manifest(2, List.of(
                new BackedUpFile("domain.xml", "definition", new FileDigest(100,
                        new ChunkIndex.Ref("domain.xml.chunks", ChunkIndex.CHUNK_SIZE, 1, 1, DIGEST_A)),
                        null, "test:///default", null),
                new BackedUpFile("vda.raw", BackedUpFile.DISK, new FileDigest(8L << 30,
                        new ChunkIndex.Ref("vda.raw.chunks", ChunkIndex.CHUNK_SIZE, 8192, 3, DIGEST_B)),
                        "vda", "/img/web.raw", "raw", "vda.backing-1.raw"))).toJson();
        assertThat(Manifest.parse(json).files()).as("the starting point is valid").hasSize(2);
        return json;
    }

    private static Manifest manifest(int format, List<BackedUpFile> files) {
        return new Manifest(format, "1.0-test", "web", "uuid-1", "test:///default", BackupMode.SUSPEND,
                DomainState.RUNNING, Instant.parse("2026-12-03T10:15:00Z"), Instant.parse("2026-12-03T10:15:09Z"),
                new Downtime(12, Downtime.HOST), files, Map.of(), Map.of(), Increment.STANDALONE);
    }

    /** A valid manifest of an inc over {@link #FULL}, its disk's chain two files long. */
    private static String chainedJson() throws InvalidManifestException {
        String json = chained(new Increment(BackupLevel.INC, FULL, new Increment.Checkpoint("virt-backup-" + INC1,
                "<domaincheckpoint/>"), Map.of("vda", new Increment.DiskChain(10L << 30,
                List.of("vda.qcow2", "../" + FULL + "/vda.qcow2"))))).toJson();
        assertThat(Manifest.parse(json).increment().parent()).as("the starting point is valid").isEqualTo(FULL);
        return json;
    }

    /** A live backup's manifest at {@code increment}'s place in a chain; its one file is not a disk, to keep names apart. */
    private static Manifest chained(Increment increment) {
        return new Manifest("1.0-test", "web", "uuid-1", "qemu:///system", BackupMode.LIVE, DomainState.RUNNING,
                Instant.parse("2026-12-09T02:00:00Z"), Instant.parse("2026-12-09T02:00:40Z"),
                new Downtime(3, Downtime.HOST), List.of(new BackedUpFile("domain.xml", "definition",
                        new FileDigest(100, new ChunkIndex.Ref("domain.xml.chunks", ChunkIndex.CHUNK_SIZE, 1, 1,
                                DIGEST_A)), null, "qemu:///system", null)),
                Map.of(), Map.of("vda", BackingChain.single(Path.of("/img/web.qcow2"), "qcow2")), increment);
    }

    private static BackedUpFile file(String name, String kind, String backing) {
        return new BackedUpFile(name, kind, new FileDigest(4L << 20,
                new ChunkIndex.Ref(name + ChunkIndex.SUFFIX, ChunkIndex.CHUNK_SIZE, 4, 1, DIGEST_B)),
                "vda", "/img/" + name, name.endsWith(".raw") ? "raw" : "qcow2", backing);
    }

    private static void assertRefused(String json, String message) {
        assertThatThrownBy(() -> Manifest.parse(json)).as(json).isInstanceOf(InvalidManifestException.class)
                .hasMessage(message);
    }
}
