package io.jenkins.plugins.virtbackup.jenkins;

import io.jenkins.plugins.virtbackup.engine.restore.RestoreResult;
import io.jenkins.plugins.virtbackup.engine.restore.RestoreResult.TestOutcome;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a successful restore or restore test hands back to a pipeline, taken from the engine's result
 * file ({@link RestoreResult}). Plain {@code String}, {@code Integer}, {@code Boolean}, {@code Double}
 * and {@code LinkedHashMap} values only: pipeline programs are serialized, and sandboxed scripts may
 * read maps.
 */
public final class RestoreSummary {
    private RestoreSummary() {
    }

    /**
     * The restore step's map: {@code status, backup, domain, uuid, disks, started}.
     *
     * @throws IllegalArgumentException when the result cannot be that of a successful restore
     */
    public static Map<String, Object> ofRestore(RestoreResult result) {
        if (result.domain() == null) {
            throw new IllegalArgumentException(Messages.RestoreSummary_noDomain());
        }
        Map<String, Object> map = common(result);
        map.put("uuid", result.uuid());
        map.put("disks", new LinkedHashMap<>(result.disks()));
        map.put("started", result.started());
        return map;
    }

    /**
     * The restore test step's map: {@code status, backup, domain} (the clone's temporary name),
     * {@code passed, proof, secondsToLife, detail}.
     *
     * @throws IllegalArgumentException when the result cannot be that of a test that passed
     */
    public static Map<String, Object> ofTest(RestoreResult result) {
        TestOutcome test = result.test();
        if (test == null) {
            throw new IllegalArgumentException(Messages.RestoreSummary_noTest());
        }
        if (!test.passed()) {
            // The engine exits 10 for a test that failed; a success that says otherwise is not trusted.
            throw new IllegalArgumentException(Messages.RestoreSummary_notPassed(test.detail()));
        }
        Map<String, Object> map = common(result);
        map.put("passed", test.passed());
        map.put("proof", test.proof());
        map.put("secondsToLife", test.secondsToLife());
        map.put("detail", test.detail());
        return map;
    }

    private static Map<String, Object> common(RestoreResult result) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("status", result.status());
        map.put("backup", result.backup());
        map.put("domain", result.domain());
        return map;
    }
}
