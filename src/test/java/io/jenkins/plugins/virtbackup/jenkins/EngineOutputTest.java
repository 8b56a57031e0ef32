package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.jenkins.EngineTask.Kind;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The engine's console on its way to the build log, and what its exit code means. */
class EngineOutputTest {
    @Test
    void everyByteReachesTheLogAndTheLastProblemIsKept() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        EngineConsole console = new EngineConsole(log);
        String text = "virt-backup: backup of domain 'web' started: mode suspend\n"
                + "virt-backup: error: first problem\r\n"
                + "virt-backup: CRITICAL: domain 'web' is still saved: virsh restore /x/memory.state\n"
                + "virt-backup: backup of domain 'web' complete: 2 file(s), 1.0 MiB, guest downtime 12 ms, "
                + "in /b/web/20250101T000000Z";
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        console.write(bytes, 0, 10);   // lines arrive in pieces over remoting
        for (int i = 10; i < 40; i++) {
            console.write(bytes[i]);
        }
        console.write(bytes, 40, bytes.length - 40);
        console.close();

        assertThat(log.toString(StandardCharsets.UTF_8)).isEqualTo(text);
        assertThat(console.lastProblem()).isEqualTo("domain 'web' is still saved: virsh restore /x/memory.state");
    }

    @Test
    void nothingKeptFromOtherLines() throws Exception {
        EngineConsole console = new EngineConsole(new ByteArrayOutputStream());
        console.write("virt-backup: warning: cdrom hdc skipped\nerror: not ours\n".getBytes(StandardCharsets.UTF_8));
        assertThat(console.lastProblem()).isNull();
    }

    @Test
    void exitCodesBecomeOneReadableLine() {
        assertThat(EngineExit.succeeded(0)).isTrue();
        for (int code : List.of(1, 2, 3, 4, 5, 6, 8, 130, 143, 99)) {
            assertThat(EngineExit.succeeded(code)).isFalse();
        }
        assertThat(EngineExit.failure("web", 3, "domain 'web' not found")).isEqualTo(
                "virt-backup of domain 'web' failed with exit code 3 (domain or disk not found): domain 'web' not found");
        assertThat(EngineExit.failure("web", 5, "x")).contains("COULD NOT BE PUT BACK");
        assertThat(EngineExit.failure("web", 143, null)).contains(Messages.EngineExit_stopped())
                .endsWith(Messages.EngineExit_noMessage());
        assertThat(EngineExit.meaning(Kind.BACKUP, 4)).isEqualTo(Messages.EngineExit_unreachable());
        assertThat(EngineExit.meaning(Kind.BACKUP, 1)).isEqualTo(Messages.EngineExit_backupFailed());
        assertThat(EngineExit.meaning(Kind.BACKUP, 2)).isEqualTo(Messages.EngineExit_usage());
        assertThat(EngineExit.meaning(Kind.BACKUP, 42)).isEqualTo(Messages.EngineExit_unknown());
        assertThat(EngineExit.failure("web", 8, "the chain of domain 'web' is broken: checkpoint lost")).isEqualTo(
                "virt-backup of domain 'web' failed with exit code 8 (the chain of backups is broken, nothing was "
                        + "written; take a full backup or use level auto): the chain of domain 'web' is broken: "
                        + "checkpoint lost");
    }

    /** Every exit status the engine documents has a meaning of its own, for every kind of run. */
    @Test
    void everyExitStatusIsExplained() {
        for (Kind kind : Kind.values()) {
            for (ExitStatus status : ExitStatus.values()) {
                if (status != ExitStatus.OK) {
                    assertThat(EngineExit.meaning(kind, status.code())).as("%s exit %s", kind, status)
                            .isNotEqualTo(Messages.EngineExit_unknown());
                }
            }
        }
    }

    /** A restore names the backup it read, and its codes 1, 3 and signals mean what they mean for a restore. */
    @Test
    void restoreFailuresNameTheBackup() {
        String backup = "/srv/backup/web/20261203T021500Z";
        assertThat(EngineExit.failure(Kind.RESTORE, backup, 9, "domain 'web' already exists")).isEqualTo(
                "virt-backup restore of " + backup + " failed with exit code 9 (a domain with that name or UUID, "
                        + "or a file at a disk's destination, already exists; nothing was changed): domain 'web' "
                        + "already exists");
        assertThat(EngineExit.failure(Kind.RESTORE_TEST, backup, 10, "no sign of life within 2 s")).isEqualTo(
                "virt-backup restore test of " + backup + " failed with exit code 10 (the restored clone showed "
                        + "no sign of life; it was removed): no sign of life within 2 s");
        assertThat(EngineExit.failure(Kind.RESTORE, backup, 7, null)).isEqualTo("virt-backup restore of " + backup
                + " failed with exit code 7 (the backup failed verification, nothing was restored): "
                + Messages.EngineExit_noMessage());
        assertThat(EngineExit.meaning(Kind.RESTORE, 1)).isEqualTo(Messages.EngineExit_restoreFailed())
                .isNotEqualTo(EngineExit.meaning(Kind.BACKUP, 1));
        assertThat(EngineExit.meaning(Kind.RESTORE_TEST, 3)).isEqualTo(Messages.EngineExit_backupNotFound());
        assertThat(EngineExit.meaning(Kind.RESTORE, 143)).isEqualTo(Messages.EngineExit_restoreStopped());
        assertThat(EngineExit.failure("web", 3, "x")).as("a backup's message as before")
                .isEqualTo(EngineExit.failure(Kind.BACKUP, "web", 3, "x"))
                .startsWith("virt-backup of domain 'web' failed with exit code 3 (domain or disk not found)");
    }
}
