package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.engine.incremental.BackupLevel;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackupOptionsTest {
    @Test
    void defaultsAreWrittenOutAndPositionalArgumentsFollowTheEndOfOptions() {
        BackupOptions options = new BackupOptions("web", null, null, null, null, null, 300, false, false, false);

        assertThat(options.cliArguments()).containsExactly("--mode", "suspend", "--level", "full",
                "--dir", "/var/backups/virt-backup", "--shutdown-timeout", "300", "--", "web");
        assertThat(options.cliArguments()).as("read-back is off by default, as in other backup tools")
                .doesNotContain("--verify");
        assertThat(options.cliArguments()).as("compression is opt-in").doesNotContain("--compress");
        assertThat(options.problems()).isEmpty();
        assertThat(options.domainDir()).isEqualTo("/var/backups/virt-backup/web");
    }

    @Test
    void everyOptionReachesTheCommandLine() {
        BackupOptions options = new BackupOptions(" db ", " qemu:///system ", List.of("vda vdb", "/img/c.qcow2"),
                "live", " auto ", "/srv//backup/", 60, true, true, true, true);

        assertThat(options.cliArguments()).containsExactly("--connect", "qemu:///system", "--mode", "live",
                "--level", "auto", "--dir", "/srv/backup", "--shutdown-timeout", "60", "--force-off", "--verify",
                "--compress", "--verbose", "--",
                "db", "vda", "vdb", "/img/c.qcow2");
        assertThat(options.domainDir()).isEqualTo("/srv/backup/db");
    }

    /**
     * Quiesce and the engine's places on the node, in the engine's own words, normalized like the
     * backup directory; off and empty, nothing of them is written.
     */
    @Test
    void quiesceAndThePlacesOnTheNodeReachTheCommandLine() {
        BackupOptions plain = new BackupOptions("web", null, null, "live", null, "/b", 300, false, false, false);
        BackupOptions options = plain.withQuiesce(true)
                .withNodePaths(" /srv//overlays/ ", "/var/lib/vb-state", "/var/log/vb-errors.log");

        assertThat(options.cliArguments()).containsExactly("--mode", "live", "--level", "full", "--dir", "/b",
                "--shutdown-timeout", "300", "--quiesce", "--overlay-dir", "/srv/overlays",
                "--state-dir", "/var/lib/vb-state", "--error-log", "/var/log/vb-errors.log", "--", "web");
        assertThat(options.problems()).isEmpty();
        assertThat(plain.withQuiesce(false).withNodePaths(" ", "", null).cliArguments())
                .isEqualTo(plain.cliArguments()).doesNotContain("--quiesce", "--overlay-dir", "--state-dir",
                        "--error-log");
        assertThat(options.withQuiesce(false).cliArguments()).as("each wither changes its own options only")
                .doesNotContain("--quiesce").contains("--overlay-dir", "--state-dir", "--error-log");
    }

    /** A list of domains, all domains, a retention and expansion keep quiesce and the places on the node. */
    @Test
    void quiesceAndThePlacesOnTheNodeGoWithEveryDomainAndThroughExpansion() {
        BackupOptions options = new BackupOptions(null, null, null, "snapshot-libvirt", null, "/b", 300, false, false,
                false).withQuiesce(true).withNodePaths("${OVERLAYS}", "${STATE}", "${LOGS}/errors.log")
                .withDomains(List.of("web db"), false, List.of(), 1, false).withRetention(null);
        assertThat(options.problems()).as("unexpanded variables are not judged").isEmpty();
        BackupOptions expanded = options.expand(s -> s.replace("${OVERLAYS}", "/o").replace("${STATE}", "/s")
                .replace("${LOGS}", "/l"));

        assertThat(expanded.forDomain("db").cliArguments()).containsSubsequence("--quiesce", "--overlay-dir", "/o",
                "--state-dir", "/s", "--error-log", "/l/errors.log", "--", "db");
        assertThat(expanded.withDomains(List.of(), true, List.of(), 1, false).cliArguments())
                .containsSubsequence("--quiesce", "--overlay-dir", "/o", "--state-dir", "/s", "--all");
    }

    @Test
    void placesOnTheNodeMustBeAbsolute() {
        BackupOptions options = new BackupOptions("web", null, null, null, null, null, 300, false, false, false)
                .withNodePaths("overlays", "state/", "errors.log");

        assertThat(options.problems()).containsExactly(Messages.Fields_overlayDirNotAbsolute("overlays"),
                Messages.Fields_stateDirNotAbsolute("state"), Messages.Fields_errorLogNotAbsolute("errors.log"));
        assertThat(Fields.overlayDirProblem(" ")).isNull();
        assertThat(Fields.stateDirProblem("${WORKSPACE}/state")).as("a build variable is judged once expanded")
                .isNull();
        assertThat(Fields.errorLogProblem(" logs/e.log ")).isEqualTo(Messages.Fields_errorLogNotAbsolute("logs/e.log"));
    }

    /**
     * Quiesce and the overlay directory in a mode that does not use them: the engine runs and ignores
     * them, so the form warns (the run is not refused). The modes that can freeze are the engine's.
     */
    @Test
    void optionsTheModeDoesNotUseAreNamedNotRefused() {
        assertThat(Fields.unusedInModeProblem("shutdown", true, null)).isEqualTo(Messages.Fields_quiesceUnused("shutdown"));
        assertThat(Fields.unusedInModeProblem("", true, null)).as("the default mode, suspend, cannot freeze")
                .isEqualTo(Messages.Fields_quiesceUnused("suspend"));
        assertThat(Fields.unusedInModeProblem("live", true, "/o"))
                .isEqualTo(Messages.Fields_overlayDirUnused("live"));
        assertThat(Fields.unusedInModeProblem("snapshot-libvirt", true, "/o")).isNull();
        assertThat(Fields.unusedInModeProblem("live", true, " ")).isNull();
        assertThat(Fields.unusedInModeProblem("${MODE}", true, "/o")).as("judged by the engine once expanded")
                .isNull();
        assertThat(Fields.unusedInModeProblem("sideways", true, "/o")).as("modeProblem names it").isNull();
        assertThat(Arrays.stream(BackupMode.values()).filter(BackupMode::canQuiesce).map(BackupMode::cliName))
                .containsExactly("snapshot-libvirt", "live");
        assertThat(new BackupOptions("web", null, null, "shutdown", null, null, 300, false, false, false)
                .withQuiesce(true).withNodePaths("/o", null, null).problems()).isEmpty();
    }

    /**
     * The snapshot size reaches the engine as written, after the options it follows in the form, in
     * snapshot-dm mode; in every other mode it is left out, since the engine refuses it there
     * ({@code --snapshot-size applies to mode snapshot-dm only}, exit 2) and the form only warns.
     */
    @Test
    void theSnapshotSizeReachesTheCommandLineInSnapshotDmModeOnly() {
        BackupOptions snapshotDm = new BackupOptions("web", null, null, "snapshot-dm", null, "/b", 300, false, false,
                false);

        assertThat(snapshotDm.withSnapshotSize(" 2G ").cliArguments()).containsExactly("--mode", "snapshot-dm",
                "--level", "full", "--dir", "/b", "--shutdown-timeout", "300", "--snapshot-size", "2G", "--",
                "web");
        assertThat(snapshotDm.withSnapshotSize("512 MiB").cliArguments()).as("one argument, as the engine parses it")
                .containsSubsequence("--snapshot-size", "512 MiB", "--");
        assertThat(snapshotDm.withSnapshotSize(" ").cliArguments()).as("empty: the engine's default")
                .isEqualTo(snapshotDm.withSnapshotSize(null).cliArguments()).isEqualTo(snapshotDm.cliArguments())
                .doesNotContain("--snapshot-size");
        for (String mode : Fields.availableModes()) {
            BackupOptions sized = new BackupOptions("web", null, null, mode, null, "/b", 300, false, false, false)
                    .withSnapshotSize("2G");
            assertThat(sized.problems()).as(mode).isEmpty();
            assertThat(sized.cliArguments().contains("--snapshot-size")).as(mode)
                    .isEqualTo(mode.equals("snapshot-dm"));
        }
        BackupOptions everything = snapshotDm.withQuiesce(true).withSnapshotSize("1G").withNodePaths("/o", "/s", "/e");
        assertThat(everything.cliArguments()).containsSubsequence("--quiesce", "--snapshot-size", "1G",
                "--overlay-dir", "/o", "--state-dir", "/s", "--error-log", "/e", "--", "web");
        assertThat(everything.withQuiesce(false).withNodePaths(null, null, null).cliArguments())
                .as("the other withers keep it").containsSubsequence("--snapshot-size", "1G");
        assertThat(everything.withSnapshotSize(null).cliArguments()).as("and it keeps theirs")
                .doesNotContain("--snapshot-size").contains("--quiesce", "--overlay-dir", "--state-dir");
    }

    /** Several domains, all domains, a retention and the freestyle builder's expansion keep the snapshot size. */
    @Test
    void theSnapshotSizeGoesWithEveryDomainAndThroughExpansion() {
        BackupOptions options = new BackupOptions(null, null, null, "${MODE}", null, "/b", 300, false, false, false)
                .withSnapshotSize("${SIZE}").withDomains(List.of("web db"), false, List.of(), 1, false)
                .withRetention(null);
        assertThat(options.problems()).as("unexpanded variables are not judged").isEmpty();
        BackupOptions expanded = options.expand(s -> s.replace("${MODE}", "snapshot-dm").replace("${SIZE}", "4G"));

        assertThat(expanded.forDomain("db").cliArguments()).containsSubsequence("--snapshot-size", "4G", "--", "db");
        assertThat(expanded.withDomains(List.of(), true, List.of(), 1, false).cliArguments())
                .containsSubsequence("--snapshot-size", "4G", "--all");
        assertThat(options.expand(s -> s.replace("${MODE}", "snapshot-dm").replace("${SIZE}", "0")).problems())
                .as("judged once expanded: the engine is not started")
                .containsExactly(Messages.Fields_snapshotSizeZero());
    }

    /**
     * What a size is, decided by the engine's own parser: a number of bytes or with a binary unit,
     * more than 0. A value that is none, or 0, is refused before the engine starts.
     */
    @Test
    void aSnapshotSizeIsWhatTheEngineParses() {
        for (String size : List.of("2G", "512m", "1 GiB", "4096", "3T", "64KiB", "${SIZE}", " ")) {
            assertThat(Fields.snapshotSizeProblem(size)).as("'%s'", size).isNull();
        }
        for (String size : List.of("2X", "1.5G", "-1G", "G", "2 G B", "2PB", "99999999999T", "99999999999999999999")) {
            assertThat(Fields.snapshotSizeProblem(size)).as("'%s'", size)
                    .isEqualTo(Messages.Fields_snapshotSizeBad(size));
        }
        assertThat(Fields.snapshotSizeProblem(" 0M ")).isEqualTo(Messages.Fields_snapshotSizeZero());
        assertThat(new BackupOptions("web", null, null, "snapshot-dm", null, null, 300, false, false, false)
                .withSnapshotSize("2X").problems()).containsExactly(Messages.Fields_snapshotSizeBad("2X"));
        assertThat(new BackupOptions("web", null, null, "live", null, null, 300, false, false, false)
                .withSnapshotSize("0").problems()).as("a bad size is refused in any mode")
                .containsExactly(Messages.Fields_snapshotSizeZero());
    }

    /**
     * A size for a mode that takes no snapshots: named, not refused (the step leaves it out). The form
     * shows it as a warning under the field; {@code FormsJenkinsIT} checks that in a real Jenkins.
     */
    @Test
    void aSnapshotSizeInAnotherModeIsNamedNotRefused() {
        assertThat(Fields.snapshotSizeUnusedProblem("live", "2G"))
                .isEqualTo(Messages.Fields_snapshotSizeUnused("live"));
        assertThat(Fields.snapshotSizeUnusedProblem("", "2G")).as("the default mode, suspend")
                .isEqualTo(Messages.Fields_snapshotSizeUnused("suspend"));
        assertThat(Fields.snapshotSizeUnusedProblem("snapshot-dm", "2G")).isNull();
        assertThat(Fields.snapshotSizeUnusedProblem("live", " ")).isNull();
        assertThat(Fields.snapshotSizeUnusedProblem("${MODE}", "2G")).as("judged once expanded").isNull();
        assertThat(Fields.snapshotSizeUnusedProblem("sideways", "2G")).as("modeProblem names it").isNull();
    }

    /** The step's own option, first: the user's options stay together as the form shows them. */
    @Test
    void theResultFileComesFirstAndOnlyWhenGiven() {
        BackupOptions options = new BackupOptions("web", null, null, null, null, null, 300, true, true, false);

        assertThat(options.cliArguments("/ws@tmp/virt-backup-result1.json")).containsExactly(
                "--result-file", "/ws@tmp/virt-backup-result1.json", "--mode", "suspend", "--level", "full",
                "--dir", "/var/backups/virt-backup", "--shutdown-timeout", "300", "--force-off", "--verify",
                "--", "web");
        assertThat(options.cliArguments(null)).isEqualTo(options.cliArguments()).doesNotContain("--result-file");
        assertThat(options.toString()).doesNotContain("--result-file");
    }

    @Test
    void problemsAreCollectedNotThrown() {
        BackupOptions options = new BackupOptions(" ", "no uri", List.of(), "fast", "weekly", "relative/dir", 0, false,
                false, false);

        assertThat(options.problems()).containsExactly(
                Messages.Fields_domainRequired(),
                Messages.Fields_uriMalformed("no uri"),
                Messages.Fields_modeUnknown("fast", String.join(", ", Fields.availableModes())),
                Messages.Fields_levelUnknown("weekly", "full, inc, diff, auto"),
                Messages.Fields_backupDirNotAbsolute("relative/dir"),
                Messages.Fields_shutdownTimeoutNotPositive());
    }

    @Test
    void expansionAppliesToEveryTextField() {
        BackupOptions options = new BackupOptions("${VM}", "${URI}", List.of("${DISK}"), "${MODE}", "${LEVEL}",
                "${DIR}", 5, false, true, true, false);
        assertThat(options.problems()).as("unexpanded variables are not judged").isEmpty();

        BackupOptions expanded = options.expand(s -> s.replace("${VM}", "web").replace("${URI}", "test:///default")
                .replace("${DISK}", "vda").replace("${MODE}", "live").replace("${LEVEL}", "inc")
                .replace("${DIR}", "/b"));

        assertThat(expanded.cliArguments()).containsExactly("--connect", "test:///default", "--mode", "live",
                "--level", "inc", "--dir", "/b", "--shutdown-timeout", "5", "--verify", "--compress", "--", "web",
                "vda");
    }

    @Test
    void allDomainsRunTheEngineOnceWithAllExcludeAndParallel() {
        BackupOptions options = new BackupOptions(null, "qemu:///system", null, null, null, "/srv/backup", 300,
                false, false, false).withDomains(List.of(), true, List.of("test-* scratch?", "db"), 2, true);

        assertThat(options.problems()).isEmpty();
        assertThat(options.isMany()).isTrue();
        assertThat(options.kind()).isEqualTo(EngineTask.Kind.BACKUP_ALL);
        assertThat(options.description()).isEqualTo("virt-backup of every domain except test-*, scratch?, db");
        assertThat(options.cliArguments("/r.json")).containsExactly("--result-file", "/r.json", "--connect",
                "qemu:///system", "--mode", "suspend", "--level", "full", "--dir", "/srv/backup",
                "--shutdown-timeout", "300", "--all", "--exclude", "test-*", "--exclude", "scratch?", "--exclude",
                "db", "--parallel", "2");
        assertThat(options.withDomains(List.of(), true, List.of(), 1, false).description())
                .isEqualTo("virt-backup of every domain");
    }

    @Test
    void aListOfDomainsRunsEachAsASingleDomainStepWould() {
        BackupOptions options = new BackupOptions(" ", null, null, "shutdown", null, "/b", 60, true, false, false)
                .withDomains(List.of("web, db"), false, List.of(), 1, true);

        assertThat(options.problems()).isEmpty();
        assertThat(options.domains()).containsExactly("web", "db");
        assertThat(options.forDomain("db").cliArguments()).isEqualTo(
                new BackupOptions("db", null, null, "shutdown", null, "/b", 60, true, false, false).cliArguments());
        assertThat(options.forDomain("db").isMany()).isFalse();
    }

    @Test
    void oneDomainAListOrAllButNeverTwoOfThem() {
        BackupOptions one = new BackupOptions("web", null, List.of("vda"), null, null, null, 300, false, false, false);

        assertThat(one.withDomains(List.of("db"), false, List.of(), 1, false).problems())
                .containsExactly(Messages.Fields_domainChoice(), Messages.Fields_disksWithManyDomains());
        assertThat(one.withDomains(List.of(), true, List.of(), 1, false).problems())
                .containsExactly(Messages.Fields_domainChoice(), Messages.Fields_disksWithManyDomains());
        BackupOptions none = new BackupOptions(null, null, null, null, null, null, 300, false, false, false);
        assertThat(none.withDomains(List.of("db", "../x"), true, List.of(), 1, false).problems())
                .containsExactly(Messages.Fields_domainChoice(), Messages.Fields_domainUnsafe("../x"));
        assertThat(none.withDomains(List.of("db"), false, List.of("d*"), 1, false).problems())
                .containsExactly(Messages.Fields_excludesWithoutAll());
        assertThat(none.withDomains(List.of("db"), false, List.of(), 3, false).problems())
                .containsExactly(Messages.Fields_excludesWithoutAll());
        assertThat(none.withDomains(List.of(), true, List.of(), 0, false).problems())
                .containsExactly(Messages.Fields_parallelNotPositive());
        assertThat(new BackupOptions("web", null, null, null, null, null, 300, false, false, false)
                .withDomains(List.of(), false, List.of(), 1, true).problems())
                .containsExactly(Messages.Fields_unstableWithOneDomain());
        assertThat(Fields.parallelProblem("2")).isNull();
        assertThat(Fields.parallelProblem("none")).isEqualTo(Messages.Fields_parallelNotPositive());
        assertThat(Fields.excludesProblem("a* b?")).isNull();
        assertThat(Fields.excludesProblem("a\u0001b")).isEqualTo(Messages.Fields_excludeBad("a\u0001b"));
        assertThat(Fields.domainsProblem("web, ../db")).isEqualTo(Messages.Fields_domainUnsafe("../db"));
    }

    @Test
    void theModeListIsTheEnginesAvailableModes() {
        assertThat(Fields.availableModes()).isEqualTo(Arrays.stream(BackupMode.values())
                .filter(BackupMode::isAvailable).map(BackupMode::cliName).toList()).contains("suspend", "shutdown");
        assertThat(Fields.availableModes()).contains(BackupOptions.DEFAULT_MODE);
    }

    @Test
    void theLevelListIsEveryLevelOfTheEngine() {
        assertThat(Fields.levels()).isEqualTo(Arrays.stream(BackupLevel.values()).map(BackupLevel::cliName).toList())
                .containsExactly("full", "inc", "diff", "auto").contains(BackupOptions.DEFAULT_LEVEL);
    }

    @Test
    void fieldChecks() {
        assertThat(Fields.domainProblem("web-1.example")).isNull();
        assertThat(Fields.domainProblem("a/b")).isEqualTo(Messages.Fields_domainUnsafe("a/b"));
        assertThat(Fields.domainProblem("..")).isEqualTo(Messages.Fields_domainUnsafe(".."));
        assertThat(Fields.domainProblem("")).isEqualTo(Messages.Fields_domainRequired());
        assertThat(Fields.uriProblem("qemu+ssh://root@kvm1/system")).isNull();
        assertThat(Fields.uriProblem("qemu+ssh://root:secret@kvm1/system")).isEqualTo(Messages.Fields_uriPassword());
        assertThat(Fields.uriProblem("")).isNull();
        assertThat(Fields.disksProblem("vda, vdb")).isNull();
        assertThat(Fields.disksProblem("v\u0007da")).isEqualTo(Messages.Fields_diskBad("v\u0007da"));
        assertThat(Fields.modeProblem("shutdown")).isNull();
        assertThat(Fields.levelProblem("inc")).isNull();
        assertThat(Fields.levelProblem("")).as("empty is the default").isNull();
        assertThat(Fields.levelProblem("${LEVEL}")).isNull();
        assertThat(Fields.levelProblem("Full"))
                .isEqualTo(Messages.Fields_levelUnknown("Full", "full, inc, diff, auto"));
        assertThat(Fields.backupDirProblem("/srv/backup")).isNull();
        assertThat(Fields.shutdownTimeoutProblem("120")).isNull();
        assertThat(Fields.shutdownTimeoutProblem("-1")).isEqualTo(Messages.Fields_shutdownTimeoutNotPositive());
        assertThat(Fields.shutdownTimeoutProblem("soon")).isEqualTo(Messages.Fields_shutdownTimeoutNotPositive());
        assertThat(Fields.shutdownTimeoutProblem("")).isEqualTo(Messages.Fields_shutdownTimeoutNotPositive());
    }

    @Test
    void diskNamesAreSplitAtBlanksAndCommas() {
        assertThat(Fields.diskNames(List.of(" vda,vdb  sdc ", "", "/dev/vg/data"))).containsExactly(
                "vda", "vdb", "sdc", "/dev/vg/data");
        assertThat(Fields.diskNames(null)).isEmpty();
        assertThat(Fields.unixPath("/")).isEqualTo("/");
        assertThat(new BackupOptions("w", null, null, null, null, "/", 1, false, false, false).domainDir())
                .isEqualTo("/w");
    }
}
