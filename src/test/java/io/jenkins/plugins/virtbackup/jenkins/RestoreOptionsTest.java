package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.restore.LifeProof;
import io.jenkins.plugins.virtbackup.jenkins.EngineTask.Kind;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The restore and restore test steps' options: the engine's command line and the field checks. */
class RestoreOptionsTest {
    private static final String BACKUP = "/srv/backup/web/20261203T021500Z";

    @Test
    void aPlainRestoreNeedsOnlyTheBackup() {
        RestoreOptions options = RestoreOptions.restore(BACKUP, null, null, null, false, false);

        assertThat(options.cliArguments()).containsExactly("restore", "--", BACKUP);
        assertThat(options.problems()).isEmpty();
        assertThat(options.kind()).isEqualTo(Kind.RESTORE);
        assertThat(options.description()).isEqualTo("virt-backup restore of " + BACKUP);
    }

    @Test
    void everyRestoreOptionReachesTheCommandLine() {
        RestoreOptions options = RestoreOptions.restore(" /srv//backup/web/20261203T021500Z/ ", " qemu:///system ",
                " web-copy ", "/srv/restore/", true, true);

        assertThat(options.cliArguments("/ws@tmp/virt-backup-result1.json")).containsExactly("restore",
                "--result-file", "/ws@tmp/virt-backup-result1.json", "--connect", "qemu:///system",
                "--name", "web-copy", "--disk-dir", "/srv/restore", "--start", "--verbose", "--", BACKUP);
        assertThat(options.toString()).doesNotContain("--result-file")
                .isEqualTo(String.join(" ", options.cliArguments()));
    }

    /** The timeout is written out even as the default, so the build log shows how long the test waited. */
    @Test
    void aRestoreTestNamesItsTimeoutAndNeverANameOrAStart() {
        RestoreOptions defaults = RestoreOptions.test(BACKUP, null, null, RestoreOptions.DEFAULT_TIMEOUT, "", false);
        assertThat(defaults.cliArguments()).containsExactly("restore", "--test", "--timeout", "300", "--", BACKUP);
        assertThat(defaults.kind()).isEqualTo(Kind.RESTORE_TEST);
        assertThat(defaults.description()).isEqualTo("virt-backup restore test of " + BACKUP);

        RestoreOptions every = RestoreOptions.test(BACKUP, "test:///default", "/scratch", 2, " login: ", true);
        assertThat(every.cliArguments("/r.json")).containsExactly("restore", "--test", "--result-file", "/r.json",
                "--connect", "test:///default", "--disk-dir", "/scratch", "--timeout", "2",
                "--console-pattern", " login: ", "--verbose", "--", BACKUP)
                .doesNotContain("--name", "--start");
    }

    /** The proof, the state directory and the error log, in the engine's words; none when not given. */
    @Test
    void theProofAndThePlacesOnTheNodeReachTheCommandLine() {
        RestoreOptions test = RestoreOptions.test(BACKUP, null, null, 60, null, false).withProof(" console ")
                .withNodePaths("/var/lib//vb-state/", "/var/log/vb-errors.log");
        assertThat(test.cliArguments()).containsExactly("restore", "--test", "--timeout", "60", "--proof", "console",
                "--state-dir", "/var/lib/vb-state", "--error-log", "/var/log/vb-errors.log", "--", BACKUP);
        assertThat(test.problems()).isEmpty();
        assertThat(test.withProof("").cliArguments()).as("the strongest the clone allows: the engine's choice")
                .doesNotContain("--proof").contains("--state-dir");

        RestoreOptions restore = RestoreOptions.restore(BACKUP, null, "web-2", null, false, false)
                .withNodePaths("/s", " ");
        assertThat(restore.cliArguments()).containsExactly("restore", "--name", "web-2", "--state-dir", "/s", "--",
                BACKUP);
        assertThat(restore.withProof(null).cliArguments()).isEqualTo(restore.cliArguments());
        assertThatThrownBy(() -> restore.withProof("agent")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theProofIsOneOfTheEnginesAndThePlacesAreAbsolute() {
        RestoreOptions test = RestoreOptions.test(BACKUP, null, null, 60, null, false).withProof("ping")
                .withNodePaths("state", "errors.log");
        assertThat(test.problems()).containsExactly(Messages.Fields_stateDirNotAbsolute("state"),
                Messages.Fields_errorLogNotAbsolute("errors.log"),
                Messages.Fields_proofUnknown("ping", "agent, console, running"));
        assertThat(Fields.lifeProofs()).isEqualTo(Arrays.stream(LifeProof.values()).map(LifeProof::cliName).toList());
        assertThat(Fields.proofProblem("${PROOF}")).isNull();
        assertThat(Fields.proofProblem(" ")).isNull();

        Map<String, String> variables = Map.of("${PROOF}", "agent", "${STATE}", "/s", "${LOGS}", "/l");
        RestoreOptions expanded = RestoreOptions.test(BACKUP, null, null, 60, null, false).withProof("${PROOF}")
                .withNodePaths("${STATE}", "${LOGS}/e.log").expand(s -> replace(s, variables));
        assertThat(expanded.cliArguments()).containsSubsequence("--proof", "agent", "--state-dir", "/s",
                "--error-log", "/l/e.log");
    }

    /** Without the {@code --} the step puts before it, this path would be read as an option. */
    @Test
    void theBackupComesAfterTheEndOfOptions() {
        assertThat(RestoreOptions.restore("/-b/web/x", null, null, null, false, false).cliArguments())
                .endsWith("--", "/-b/web/x");
    }

    @Test
    void problemsAreCollectedNotThrown() {
        RestoreOptions restore = RestoreOptions.restore("web/20261203T021500Z", "kvm1", "a/b", "restore", true, false);
        assertThat(restore.problems()).containsExactly(
                Messages.Fields_backupNotAbsolute("web/20261203T021500Z"),
                Messages.Fields_uriMalformed("kvm1"),
                Messages.Fields_nameUnsafe("a/b"),
                Messages.Fields_diskDirNotAbsolute("restore"));

        RestoreOptions test = RestoreOptions.test(" ", null, null, 0, "(unclosed", false);
        assertThat(test.problems()).hasSize(3).startsWith(Messages.Fields_backupRequired(),
                Messages.Fields_timeoutNotPositive());
        assertThat(test.problems().get(2)).startsWith("'(unclosed' is not a regular expression: ");
    }

    @Test
    void expansionAppliesToEveryTextField() {
        Map<String, String> variables = Map.of("${BACKUP}", BACKUP, "${URI}", "test:///default", "${NAME}", "web-2",
                "${DIR}", "/r", "${PROMPT}", "login");
        RestoreOptions restore = RestoreOptions.restore("${BACKUP}", "${URI}", "${NAME}", "${DIR}", false, false);
        RestoreOptions test = RestoreOptions.test("${BACKUP}", "${URI}", "${DIR}", 5, "${PROMPT}:$", false);
        assertThat(restore.problems()).as("unexpanded variables are not judged").isEmpty();
        assertThat(test.problems()).isEmpty();

        assertThat(restore.expand(s -> replace(s, variables)).cliArguments()).containsExactly("restore",
                "--connect", "test:///default", "--name", "web-2", "--disk-dir", "/r", "--", BACKUP);
        assertThat(test.expand(s -> replace(s, variables)).cliArguments()).containsExactly("restore", "--test",
                "--connect", "test:///default", "--disk-dir", "/r", "--timeout", "5", "--console-pattern", "login:$",
                "--", BACKUP);
    }

    private static String replace(String text, Map<String, String> variables) {
        String result = text;
        for (Map.Entry<String, String> variable : variables.entrySet()) {
            result = result.replace(variable.getKey(), variable.getValue());
        }
        return result;
    }

    @Test
    void fieldChecks() {
        assertThat(Fields.backupProblem(BACKUP)).isNull();
        assertThat(Fields.backupProblem("")).isEqualTo(Messages.Fields_backupRequired());
        assertThat(Fields.backupProblem("/b/\u0007x")).isEqualTo(Messages.Fields_backupBad("/b/\u0007x"));
        assertThat(Fields.backupProblem("${B}")).isNull();
        assertThat(Fields.nameProblem("web-copy")).isNull();
        assertThat(Fields.nameProblem("")).as("no name: the original's").isNull();
        assertThat(Fields.nameProblem("..")).isEqualTo(Messages.Fields_nameUnsafe(".."));
        assertThat(Fields.diskDirProblem("/srv/restore")).isNull();
        assertThat(Fields.diskDirProblem(" ")).isNull();
        assertThat(Fields.diskDirProblem("srv")).isEqualTo(Messages.Fields_diskDirNotAbsolute("srv"));
        assertThat(Fields.timeoutProblem("2")).isNull();
        assertThat(Fields.timeoutProblem("0")).isEqualTo(Messages.Fields_timeoutNotPositive());
        assertThat(Fields.timeoutProblem("soon")).isEqualTo(Messages.Fields_timeoutNotPositive());
        assertThat(Fields.timeoutProblem("")).isEqualTo(Messages.Fields_timeoutNotPositive());
        assertThat(Fields.consolePatternProblem("^login: ?$")).as("$ is the pattern's own").isNull();
        assertThat(Fields.consolePatternProblem("")).isNull();
        assertThat(Fields.consolePatternProblem(null)).isNull();
        assertThat(Fields.consolePatternProblem("[a-")).startsWith("'[a-' is not a regular expression: ");
        assertThat(Fields.consolePatternProblem("${PROMPT}")).as("a variable, checked once expanded").isNull();
    }
}
