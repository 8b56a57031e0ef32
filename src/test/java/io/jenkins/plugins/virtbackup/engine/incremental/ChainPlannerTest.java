package io.jenkins.plugins.virtbackup.engine.incremental;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.CheckpointCheck;
import io.jenkins.plugins.virtbackup.engine.DomainState;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.ScriptedVirtualMachine;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkIndex;
import io.jenkins.plugins.virtbackup.engine.copy.FileDigest;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import io.jenkins.plugins.virtbackup.engine.incremental.ChainPlanner.DiskNow;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.log.Severity;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.modes.Downtime;
import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.engine.store.Increment;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import io.jenkins.plugins.virtbackup.testing.Host;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a {@code live} backup will be, decided from real manifests in a backup root and a domain
 * whose checkpoint validation is scripted: the parent and the chain an inc or diff builds on, and
 * every reason that breaks the chain, refused by inc and diff and turned into a full by auto.
 */
class ChainPlannerTest {
    private static final String UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f";
    private static final String SOURCE = "/var/lib/libvirt/images/web.qcow2";
    private static final long SIZE = 10L << 30;
    private static final String FULL = "20261207T020000Z";
    private static final String INC1 = "20261208T020000Z";
    private static final String INC2 = "20261209T020000Z";
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final CheckpointCheck USABLE = new CheckpointCheck(null, false);

    @TempDir
    Path root;

    private final ScriptedVirtualMachine vm = new ScriptedVirtualMachine();
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    /** What reached syslog, with its severity: notices go there, details do not. */
    private final List<String> syslog = new ArrayList<>();
    private final BackupLog log = new BackupLog(new PrintStream(console, true, StandardCharsets.UTF_8), true,
            (severity, message) -> syslog.add(severity + " " + message));
    /** The domain's disks as they are now, by target. */
    private final Map<String, DiskNow> disksNow = new LinkedHashMap<>(Map.of("vda", new DiskNow(SOURCE, SIZE)));
    /** The manifests written so far, by folder. */
    private final Map<String, Manifest> written = new HashMap<>();
    private boolean running = true;

    @Test
    void aFullBackupReadsNoManifestAndAsksLibvirtNothing() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        live(INC1, BackupLevel.INC, FULL);
        usable(FULL, INC1);
        // Opening this manifest blocks until someone writes to it: a planner that reads blocks.
        Path blocking = Files.createDirectories(domainFolder().resolve(INC2)).resolve(Manifest.FILE_NAME);
        Host.run("mkfifo", blocking.toString());

        ChainPlan plan = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> plan(BackupLevel.FULL));

        assertThat(plan).isSameAs(ChainPlan.FULL);
        assertThat(vm.calls).isEmpty();
        assertThat(console()).isEmpty();
    }

    @Test
    void anIncOverAFullBuildsOnItAndChecksItsCheckpointOnly() throws Exception {
        Manifest full = live(FULL, BackupLevel.FULL, null);
        usable(FULL);

        ChainPlan plan = plan(BackupLevel.INC);

        assertThat(plan.level()).isEqualTo(BackupLevel.INC);
        assertThat(plan.parentFolder()).isEqualTo(FULL);
        assertThat(plan.parent()).isEqualTo(full);
        assertThat(plan.incrementalFrom()).isEqualTo("virt-backup-" + FULL);
        assertThat(plan.diskChain("vda", "vda.qcow2", SIZE))
                .isEqualTo(new Increment.DiskChain(SIZE, List.of("vda.qcow2", "../" + FULL + "/vda.qcow2")));
        assertThat(plan.backingFile("vda")).isEqualTo("../" + FULL + "/vda.qcow2");
        assertThat(vm.calls).containsExactly("validate checkpoint virt-backup-" + FULL);
        assertThat(vm.validatedWithXml).as("the XML a lost checkpoint is redefined from")
                .containsExactly(Map.entry("virt-backup-" + FULL, checkpointXml(FULL)));
        assertThat(notices()).isEmpty();
    }

    @Test
    void anIncOverAnIncBuildsOnTheNewestAndRebasesItsChain() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        Manifest inc = live(INC1, BackupLevel.INC, FULL);
        usable(FULL, INC1);

        ChainPlan plan = plan(BackupLevel.INC);

        assertThat(plan.parentFolder()).isEqualTo(INC1);
        assertThat(plan.parent()).isEqualTo(inc);
        assertThat(plan.incrementalFrom()).isEqualTo("virt-backup-" + INC1);
        assertThat(plan.diskChain("vda", "vda.qcow2", SIZE).files())
                .containsExactly("vda.qcow2", "../" + INC1 + "/vda.qcow2", "../" + FULL + "/vda.qcow2");
        assertThat(plan.backingFile("vda")).isEqualTo("../" + INC1 + "/vda.qcow2");
        assertThat(vm.calls).containsExactly("validate checkpoint virt-backup-" + INC1);
    }

    @Test
    void aDiffBuildsOnTheFullAndChecksEveryCheckpointSinceIt() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        live(INC1, BackupLevel.INC, FULL);
        live(INC2, BackupLevel.INC, INC1);
        usable(FULL, INC1, INC2);

        ChainPlan plan = plan(BackupLevel.DIFF);

        assertThat(plan.level()).isEqualTo(BackupLevel.DIFF);
        assertThat(plan.parentFolder()).isEqualTo(FULL);
        assertThat(plan.incrementalFrom()).isEqualTo("virt-backup-" + FULL);
        assertThat(plan.diskChain("vda", "vda.qcow2", SIZE).files())
                .containsExactly("vda.qcow2", "../" + FULL + "/vda.qcow2");
        assertThat(vm.calls).containsExactlyInAnyOrder("validate checkpoint virt-backup-" + FULL,
                "validate checkpoint virt-backup-" + INC1, "validate checkpoint virt-backup-" + INC2);
        assertThat(plan.increment(new Increment.Checkpoint("virt-backup-20261210T020000Z", "<x/>"), Map.of()))
                .extracting(Increment::level, Increment::parent).containsExactly(BackupLevel.DIFF, FULL);
    }

    @Test
    void autoExtendsASoundChainWithAnInc() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        live(INC1, BackupLevel.DIFF, FULL);
        usable(FULL, INC1);

        ChainPlan plan = plan(BackupLevel.AUTO);

        assertThat(plan.level()).isEqualTo(BackupLevel.INC);
        assertThat(plan.parentFolder()).as("an inc over the newest, a diff here").isEqualTo(INC1);
        assertThat(plan.diskChain("vda", "vda.qcow2", SIZE).files())
                .containsExactly("vda.qcow2", "../" + INC1 + "/vda.qcow2", "../" + FULL + "/vda.qcow2");
        assertThat(notices()).isEmpty();
    }

    @Test
    void withoutAnyEarlierBackupTheChainIsBroken() throws Exception {
        assertBrokenBeforeAskingLibvirt("there is no earlier backup of it in " + domainFolder());

        Files.createDirectories(domainFolder());
        assertBrokenBeforeAskingLibvirt("there is no earlier backup of it in " + domainFolder());
    }

    @Test
    void aNewestBackupOfAnotherModeBreaksTheChain() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        standalone(INC1, BackupMode.SUSPEND, DomainState.RUNNING);
        usable(FULL);

        assertBrokenBeforeAskingLibvirt("the newest backup, " + INC1 + ", was taken in mode suspend and took no "
                + "checkpoint");
    }

    @Test
    void aNewestLiveBackupOfAShutOffDomainTookNoCheckpointAndBreaksTheChain() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        standalone(INC1, BackupMode.LIVE, DomainState.SHUT_OFF);
        usable(FULL);

        assertBrokenBeforeAskingLibvirt("the newest backup, " + INC1 + ", was taken in mode live of a domain that "
                + "was not running and took no checkpoint");
    }

    @Test
    void unfinishedAndUnreadableBackupsAreIgnored() throws Exception {
        Manifest full = live(FULL, BackupLevel.FULL, null);
        usable(FULL);
        // Killed after its manifest was written, before the rename: not complete, not a parent.
        live(INC1, BackupLevel.INC, FULL);
        Files.move(domainFolder().resolve(INC1), domainFolder().resolve(INC1 + BackupDirectory.PARTIAL_SUFFIX));
        usable(INC1);
        Path truncated = Files.createDirectories(domainFolder().resolve(INC2)).resolve(Manifest.FILE_NAME);
        Files.writeString(truncated, written.get(FULL).toJson().substring(0, 200), StandardCharsets.UTF_8);
        Files.createDirectories(domainFolder().resolve("20261210T020000Z"));
        Files.writeString(domainFolder().resolve("20261211T020000Z"), "a file, not a backup");

        ChainPlan plan = plan(BackupLevel.INC);

        assertThat(plan.parentFolder()).isEqualTo(FULL);
        assertThat(plan.parent()).isEqualTo(full);
        assertThat(vm.calls).containsExactly("validate checkpoint virt-backup-" + FULL);
    }

    @Test
    void onlyAnUnfinishedBackupIsNoEarlierBackup() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        Files.move(domainFolder().resolve(FULL), domainFolder().resolve(FULL + BackupDirectory.PARTIAL_SUFFIX));
        usable(FULL);

        assertBrokenBeforeAskingLibvirt("there is no earlier backup of it in " + domainFolder());
    }

    @Test
    void theNewestIsTheOneThatStartedLastWhateverItsFolderIsCalled() throws Exception {
        // The folder named later started earlier, as after the clock was set back.
        live(INC2, BackupLevel.FULL, null, Instant.parse("2026-12-08T02:00:00Z"));
        live(INC1, BackupLevel.FULL, null, Instant.parse("2026-12-09T02:00:00Z"));
        usable(INC1, INC2);

        assertThat(plan(BackupLevel.INC).parentFolder()).isEqualTo(INC1);
    }

    @Test
    void ofTwoBackupsStartedAtOnceTheLaterNamedIsTheNewest() throws Exception {
        Instant start = Instant.parse("2026-12-08T02:00:00Z");
        live(INC1 + "-2", BackupLevel.FULL, null, start);
        live(INC1, BackupLevel.FULL, null, start);
        usable(INC1, INC1 + "-2");

        assertThat(plan(BackupLevel.INC).parentFolder()).isEqualTo(INC1 + "-2");
    }

    @Test
    void aMissingParentBreaksTheChain() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        live(INC1, BackupLevel.INC, FULL);
        live(INC2, BackupLevel.INC, INC1);
        usable(FULL, INC1, INC2);
        BackupDirectory.deleteTree(domainFolder().resolve(INC1));

        assertBrokenBeforeAskingLibvirt("backup " + INC1 + ", which backup " + INC2
                + " builds on, is missing or unreadable");
    }

    @Test
    void aParentWithAnUnreadableManifestBreaksTheChain() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        live(INC1, BackupLevel.INC, FULL);
        usable(FULL, INC1);
        Files.writeString(domainFolder().resolve(FULL).resolve(Manifest.FILE_NAME), "{\"format\": 3}");

        assertBrokenBeforeAskingLibvirt("backup " + FULL + ", which backup " + INC1
                + " builds on, is missing or unreadable");
    }

    @Test
    void aParentThatTookNoCheckpointBreaksTheChain() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        live(INC1, BackupLevel.INC, FULL);
        usable(FULL, INC1);
        // The folder the inc names now holds a backup of another mode.
        standalone(FULL, BackupMode.SUSPEND, DomainState.RUNNING);

        assertBrokenBeforeAskingLibvirt("backup " + FULL + " of the chain took no checkpoint");
    }

    @Test
    void aChainThatLoopsBackIsBroken() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        live(INC1, BackupLevel.INC, FULL);
        live(INC2, BackupLevel.INC, INC1);
        usable(FULL, INC1, INC2);
        // An edited manifest: the older inc now names the newer one as its parent.
        Manifest older = written.get(INC1);
        Increment increment = older.increment();
        write(INC1, withIncrement(older, new Increment(BackupLevel.INC, INC2, increment.checkpoint(),
                increment.disks())));

        assertThat(assertTimeoutPreemptively(Duration.ofSeconds(10), () -> brokenReason(BackupLevel.INC)))
                .isEqualTo("the chain of backup " + INC2 + " loops back to backup " + INC2);
        assertBrokenBeforeAskingLibvirt("the chain of backup " + INC2 + " loops back to backup " + INC2);
    }

    @Test
    void aRedefinedDomainBreaksTheChain() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        usable(FULL);
        String newUuid = "0b4c3d1e-2f60-4a7b-8c9d-0e1f2a3b4c5d";

        assertThatThrownBy(() -> plan(BackupLevel.INC, newUuid)).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.status()).isEqualTo(ExitStatus.CHAIN_BROKEN);
            assertThat(e.getMessage()).contains("the domain was redefined since backup " + FULL + " (UUID " + UUID
                    + ", now " + newUuid + ")").contains("nothing was written");
        });
        assertThat(plan(BackupLevel.AUTO, newUuid)).isSameAs(ChainPlan.FULL);
        assertThat(notices()).containsExactly("level auto: taking a full backup, since the chain cannot be "
                + "extended: the domain was redefined since backup " + FULL + " (UUID " + UUID + ", now " + newUuid
                + ")");
        assertThat(vm.calls).isEmpty();
    }

    @Test
    void anAddedDiskBreaksTheChain() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        usable(FULL);
        disksNow.put("vdb", new DiskNow("/var/lib/libvirt/images/web-data.qcow2", SIZE));

        assertBrokenBeforeAskingLibvirt("disk vdb was not in backup " + FULL + " (added since, or not selected then)");
    }

    @Test
    void aRemovedDiskBreaksTheChain() throws Exception {
        live(FULL, BackupLevel.FULL, null, start(FULL), Map.of("vda", new DiskNow(SOURCE, SIZE),
                "vdb", new DiskNow("/var/lib/libvirt/images/web-data.qcow2", SIZE)));
        usable(FULL);

        assertBrokenBeforeAskingLibvirt("disk vdb of backup " + FULL
                + " is not backed up now (removed since, or not selected now)");
    }

    @Test
    void aShutOffDomainHasNoChainToExtend() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        usable(FULL);
        running = false;

        assertBrokenBeforeAskingLibvirt("it is shut off, and libvirt's backup job needs it running");
    }

    @Test
    void disksThatKeepNoBitmapHaveNoChainToExtend() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        usable(FULL);
        disksNow.put("vda", new DiskNow(SOURCE, SIZE, false));

        assertBrokenBeforeAskingLibvirt("none of the disks it copies is a qcow2 image, the only kind in which libvirt "
                + "keeps the bitmaps of a checkpoint");
    }

    /** Only a mixed-up backup folder can hold such a chain; a diff over it would have no file to build on. */
    @Test
    void aLinkOfTheChainWithOtherDisksBreaksIt() throws Exception {
        live(FULL, BackupLevel.FULL, null, start(FULL), Map.of("vda", new DiskNow(SOURCE, SIZE),
                "vdb", new DiskNow("/var/lib/libvirt/images/web-data.qcow2", SIZE)));
        live(INC1, BackupLevel.INC, FULL);
        usable(FULL, INC1);

        assertBrokenBeforeAskingLibvirt("backup " + FULL + " of the chain holds disks [vda, vdb], not [vda]");
    }

    @Test
    void aResizedDiskBreaksTheChain() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        usable(FULL);
        disksNow.put("vda", new DiskNow(SOURCE, SIZE + (2L << 30)));

        assertBrokenBeforeAskingLibvirt("disk vda was resized since backup " + FULL
                + " (from 10737418240 to 12884901888 bytes)");
    }

    @Test
    void aDiskWritingToAnotherImageBreaksTheChain() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        usable(FULL);
        String overlay = "/var/lib/libvirt/images/web.1765072800";
        disksNow.put("vda", new DiskNow(overlay, SIZE));

        assertBrokenBeforeAskingLibvirt("disk vda now writes to " + overlay + ", not to " + SOURCE
                + " as at backup " + FULL);
    }

    @Test
    void aCheckpointLibvirtCannotUseBreaksTheChain() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        String problem = "bitmap 'virt-backup-" + FULL + "' of disk 'vda' is inconsistent";
        vm.checkpointChecks.put("virt-backup-" + FULL, new CheckpointCheck(problem, false));

        assertChainBroken("checkpoint virt-backup-" + FULL + " of backup " + FULL + " cannot be used: " + problem);
        assertThat(vm.calls).containsOnly("validate checkpoint virt-backup-" + FULL);
    }

    @Test
    void aDiffNeedsEveryCheckpointSinceTheFullWhereAnIncNeedsTheNewestOnly() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        live(INC1, BackupLevel.INC, FULL);
        live(INC2, BackupLevel.INC, INC1);
        usable(FULL, INC2);
        String problem = "unable to find bitmap 'virt-backup-" + INC1 + "' in image '" + SOURCE + "'";
        vm.checkpointChecks.put("virt-backup-" + INC1, new CheckpointCheck(problem, false));

        assertThat(plan(BackupLevel.INC).parentFolder()).isEqualTo(INC2);
        assertThatThrownBy(() -> plan(BackupLevel.DIFF)).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.status()).isEqualTo(ExitStatus.CHAIN_BROKEN);
            assertThat(e.getMessage()).isEqualTo("cannot back up domain 'web' at level diff: checkpoint virt-backup-"
                    + INC1 + " of backup " + INC1 + " cannot be used: " + problem + "; nothing was written. Take a "
                    + "full backup (--level full), or use --level auto, which does so when the chain is broken");
        });
    }

    @Test
    void aCheckpointRedefinedFromItsSavedXmlKeepsTheChainAndIsNoticed() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        vm.checkpointChecks.put("virt-backup-" + FULL, new CheckpointCheck(null, true));

        ChainPlan plan = plan(BackupLevel.INC);

        assertThat(plan.parentFolder()).isEqualTo(FULL);
        assertThat(vm.validatedWithXml.get("virt-backup-" + FULL)).isEqualTo(checkpointXml(FULL));
        assertThat(notices()).containsExactly("libvirt had lost checkpoint virt-backup-" + FULL
                + "; redefined it from backup " + FULL + " and its bitmaps check out");
    }

    @Test
    void libvirtFailingToCheckACheckpointFailsTheBackupEvenInAuto() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        vm.validationFailure = new HypervisorException(HypervisorException.Kind.OTHER,
                "internal error: unable to execute QEMU command 'query-named-block-nodes'", null);

        for (BackupLevel level : List.of(BackupLevel.INC, BackupLevel.AUTO)) {
            assertThatThrownBy(() -> plan(level)).as("level " + level)
                    .isInstanceOfSatisfying(BackupException.class, e -> {
                        assertThat(e.status()).isEqualTo(ExitStatus.BACKUP_FAILED);
                        assertThat(e.getMessage()).isEqualTo("cannot check checkpoint virt-backup-" + FULL
                                + " of domain 'web': internal error: unable to execute QEMU command "
                                + "'query-named-block-nodes'");
                    });
        }
        assertThat(notices()).as("no silent fall back to a full").isEmpty();
    }

    @Test
    void aLostConnectionWhileCheckingACheckpointIsTheHypervisorUnreachable() throws Exception {
        live(FULL, BackupLevel.FULL, null);
        vm.validationFailure = new HypervisorException(HypervisorException.Kind.UNREACHABLE,
                "Cannot recv data: Connection reset by peer", null);

        assertThatThrownBy(() -> plan(BackupLevel.AUTO)).isInstanceOfSatisfying(BackupException.class,
                e -> assertThat(e.status()).isEqualTo(ExitStatus.HYPERVISOR_UNREACHABLE));
    }

    /**
     * Asserts the chain cannot be extended for {@code reason}: inc and diff refuse with exit status
     * 8 and write nothing, auto takes a full and says why in a NOTICE.
     */
    private void assertChainBroken(String reason) throws BackupException {
        syslog.clear();
        for (BackupLevel level : List.of(BackupLevel.INC, BackupLevel.DIFF)) {
            assertThatThrownBy(() -> plan(level)).as("level " + level)
                    .isInstanceOfSatisfying(BackupException.class, e -> {
                        assertThat(e.status()).isEqualTo(ExitStatus.CHAIN_BROKEN);
                        assertThat(e.getMessage()).startsWith("cannot back up domain 'web' at level " + level + ": "
                                + reason + "; nothing was written.");
                    });
        }
        assertThat(brokenReason(BackupLevel.INC)).isEqualTo(reason);
        assertThat(plan(BackupLevel.AUTO)).isSameAs(ChainPlan.FULL);
        assertThat(notices()).containsExactly("level auto: taking a full backup, since the chain cannot be extended: "
                + reason);
        assertThat(console()).contains("virt-backup: level auto: taking a full backup");
    }

    /** As {@link #assertChainBroken}, seen from the backups alone: no checkpoint is validated, or redefined. */
    private void assertBrokenBeforeAskingLibvirt(String reason) throws BackupException {
        assertChainBroken(reason);
        assertThat(vm.calls).isEmpty();
    }

    /** The reason an explicit level gives for refusing, cut out of its message. */
    private String brokenReason(BackupLevel level) {
        String prefix = "cannot back up domain 'web' at level " + level + ": ";
        try {
            plan(level);
        } catch (BackupException e) {
            assertThat(e.getMessage()).startsWith(prefix);
            return e.getMessage().substring(prefix.length(), e.getMessage().indexOf("; nothing was written"));
        }
        throw new AssertionError("level " + level + " was planned");
    }

    private ChainPlan plan(BackupLevel level) throws BackupException {
        return plan(level, UUID);
    }

    private ChainPlan plan(BackupLevel level, String uuid) throws BackupException {
        return new ChainPlanner(vm, "web", log).plan(level, running, domainFolder(), uuid, disksNow);
    }

    private Path domainFolder() {
        return root.resolve("web");
    }

    private String console() {
        return console.toString(StandardCharsets.UTF_8);
    }

    private List<String> notices() {
        return syslog.stream().filter(line -> line.startsWith(Severity.NOTICE + " "))
                .map(line -> line.substring(Severity.NOTICE.name().length() + 1)).toList();
    }

    /** libvirt answers that each named backup's checkpoint has sound bitmaps. */
    private void usable(String... folders) {
        for (String folder : folders) {
            vm.checkpointChecks.put(Checkpoints.nameFor(folder), USABLE);
        }
    }

    private static Instant start(String folder) {
        return Instant.from(STAMP.parse(folder));
    }

    private static String checkpointXml(String folder) {
        String name = Checkpoints.nameFor(folder);
        return "<domaincheckpoint>\n  <name>" + name + "</name>\n  <description>" + Checkpoints.DESCRIPTION
                + "</description>\n  <disks>\n    <disk name='vda' checkpoint='bitmap' bitmap='" + name + "'/>\n"
                + "  </disks>\n</domaincheckpoint>\n";
    }

    private Manifest live(String folder, BackupLevel level, String parent) throws IOException {
        return live(folder, level, parent, start(folder));
    }

    private Manifest live(String folder, BackupLevel level, String parent, Instant start) throws IOException {
        return live(folder, level, parent, start, Map.of("vda", new DiskNow(SOURCE, SIZE)));
    }

    /**
     * Writes the manifest of a {@code live} backup of the running domain, as the engine does: a
     * checkpoint named after the folder, and each disk's chain of files down to the full backup's.
     */
    private Manifest live(String folder, BackupLevel level, String parent, Instant start, Map<String, DiskNow> disks)
            throws IOException {
        Map<String, Increment.DiskChain> chains = new LinkedHashMap<>();
        Map<String, BackingChain> sources = new LinkedHashMap<>();
        List<BackedUpFile> files = new ArrayList<>();
        for (Map.Entry<String, DiskNow> disk : disks.entrySet()) {
            String target = disk.getKey();
            List<String> chain = new ArrayList<>(List.of(target + ".qcow2"));
            if (parent != null) {
                List<String> below = written.get(parent).increment().disks().get(target).files();
                chain.add("../" + parent + "/" + below.get(0));
                chain.addAll(below.subList(1, below.size()));
            }
            chains.put(target, new Increment.DiskChain(disk.getValue().capacity(), chain));
            sources.put(target, BackingChain.single(Path.of(disk.getValue().source()), "qcow2"));
            files.add(diskFile(target + ".qcow2", target, disk.getValue().source()));
        }
        Increment increment = new Increment(level, parent,
                new Increment.Checkpoint(Checkpoints.nameFor(folder), checkpointXml(folder)), chains);
        return write(folder, new Manifest("1.0-test", "web", UUID, "qemu:///system", BackupMode.LIVE,
                DomainState.RUNNING, start, start.plusSeconds(40), new Downtime(3, Downtime.HOST), files, Map.of(),
                sources, increment));
    }

    /** Writes the manifest of a backup that took no checkpoint and that nothing builds on. */
    private Manifest standalone(String folder, BackupMode mode, DomainState found) throws IOException {
        Instant start = start(folder);
        return write(folder, new Manifest("1.0-test", "web", UUID, "qemu:///system", mode, found, start,
                start.plusSeconds(40), new Downtime(250, Downtime.HYPERVISOR),
                List.of(diskFile("vda.qcow2", "vda", SOURCE)), Map.of(),
                Map.of("vda", BackingChain.single(Path.of(SOURCE), "qcow2"))));
    }

    private static Manifest withIncrement(Manifest manifest, Increment increment) {
        return new Manifest(manifest.toolVersion(), manifest.domainName(), manifest.domainUuid(),
                manifest.hypervisorUri(), manifest.mode(), manifest.stateFound(), manifest.start(), manifest.end(),
                manifest.downtime(), manifest.files(), manifest.skipped(), manifest.chains(), increment);
    }

    private Manifest write(String folder, Manifest manifest) throws IOException {
        Path dir = Files.createDirectories(domainFolder().resolve(folder));
        Files.writeString(dir.resolve(Manifest.FILE_NAME), manifest.toJson(), StandardCharsets.UTF_8);
        written.put(folder, manifest);
        return manifest;
    }

    private static BackedUpFile diskFile(String name, String target, String source) {
        return new BackedUpFile(name, BackedUpFile.DISK, new FileDigest(SIZE,
                new ChunkIndex.Ref(name + ChunkIndex.SUFFIX, ChunkIndex.CHUNK_SIZE, 10240, 12, "c".repeat(64))),
                target, source, "qcow2");
    }
}
