package io.jenkins.plugins.virtbackup.lvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.lvm.VolumeTools;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The adapter's own parts that need no LVM: a tool's error output goes to the error log and its
 * first line into the failure, and findmnt's pairs are read with their escapes. The LVM commands
 * themselves run in the device-mapper guest ({@code DmGuestIT}).
 */
class LvmCommandsTest {
    private final List<String> errorLog = new ArrayList<>();
    private final LvmCommands commands = new LvmCommands((tool, text) -> errorLog.add(tool + ": " + text));

    @Test
    void aToolsErrorOutputGoesToTheErrorLogAndItsFirstLineIntoTheReason() throws Exception {
        LvmCommands.Outcome outcome = commands.run(List.of("sh", "-c",
                "echo 'vbt/web: not found'; echo '  Volume group \"vbt\" not found' >&2; echo second >&2; exit 5"));

        assertThat(outcome.ok()).isFalse();
        assertThat(outcome.exitCode()).isEqualTo(5);
        assertThat(outcome.out()).isEqualTo("vbt/web: not found\n");
        assertThat(outcome.why()).isEqualTo("Volume group \"vbt\" not found");
        assertThat(errorLog).singleElement().asString().startsWith("sh: sh -c ")
                .contains("Volume group \"vbt\" not found\nsecond");
    }

    @Test
    void aQuietToolLeavesTheErrorLogAlone() throws Exception {
        LvmCommands.Outcome outcome = commands.run(List.of("sh", "-c", "exit 3"));

        assertThat(outcome.why()).isEqualTo("exit status 3");
        assertThat(errorLog).isEmpty();
    }

    @Test
    void theEffectiveUserIdIsTheSecondOfTheUidLine() throws Exception {
        assertThat(LvmCommands.effectiveUid(List.of("Name:\tjava", "Uid:\t1000\t0\t0\t0", "Gid:\t0\t0\t0\t0")))
                .isZero();
        assertThat(LvmCommands.effectiveUid(List.of("Uid:\t0\t1000\t1000\t1000"))).isEqualTo(1000);
        assertThatThrownBy(() -> LvmCommands.effectiveUid(List.of("Name:\tjava"))).isInstanceOf(IOException.class);
    }

    @Test
    void thisProcessIsTakenForWhatItIs() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        assertThat(commands.missingPrivileges().isEmpty()).as("root: " + root).isEqualTo(root);
    }

    @Test
    void aSnapshotsStateIsReadFromItsLineInTheGroupsListing() {
        String lvs = "  images|owi-aos---|\n"
                + "  images-vbsnap-1|sri-aos---|images\n"
                + "  blk-vbsnap-1|sri-I-s---|blk\n"
                + "  web-vbsnap-1|sri-S-s---|web\n"
                + "  images-vbsnap-10|swi-a-s---|images\n";

        assertThat(LvmCommands.parseSnapshotState(lvs, "images-vbsnap-1"))
                .contains(new VolumeTools.SnapshotState(false, "images"));
        assertThat(LvmCommands.parseSnapshotState(lvs, "blk-vbsnap-1")).as("invalid: it overflowed")
                .contains(new VolumeTools.SnapshotState(true, "blk"));
        assertThat(LvmCommands.parseSnapshotState(lvs, "web-vbsnap-1")).as("suspended invalid")
                .contains(new VolumeTools.SnapshotState(true, "web"));
        assertThat(LvmCommands.parseSnapshotState(lvs, "images")).as("no snapshot: no origin")
                .contains(new VolumeTools.SnapshotState(false, ""));
        assertThat(LvmCommands.parseSnapshotState(lvs, "images-vbsnap")).as("a name is matched whole").isEmpty();
    }

    @Test
    void findmntPairsWithUtf8NamesAreDecoded() {
        assertThat(LvmCommands.pairs("TARGET=\"/srv/m\\xc3\\xa4rz\\x20images\" FSTYPE=\"xfs\""))
                .containsEntry("TARGET", "/srv/m\u00e4rz images");
        assertThat(LvmCommands.pairs("TARGET=\"/srv/\u00e9t\u00e9\"")).containsEntry("TARGET", "/srv/\u00e9t\u00e9");
    }

    @Test
    void findmntPairsAreUnescaped() {
        assertThat(LvmCommands.pairs("SOURCE=\"/dev/mapper/vbt-images\" TARGET=\"/mnt/my\\x20images\" FSTYPE=\"ext4\""))
                .containsEntry("SOURCE", "/dev/mapper/vbt-images").containsEntry("TARGET", "/mnt/my images")
                .containsEntry("FSTYPE", "ext4");
    }
}
