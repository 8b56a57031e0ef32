package io.jenkins.plugins.virtbackup.engine.restore;

import io.jenkins.plugins.virtbackup.engine.store.Json;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a {@code virt-backup restore} run ended ({@code --result-file}), for scripts and the Jenkins
 * plugin, written by the command line and read by the plugin through this one class:
 * <pre>{"status": 0, "backup": "/srv/backup/web/20261203T021500Z", "domain": "web-copy",
 *  "uuid": "…", "disks": {"vda": "/srv/restore/web-copy-vda.qcow2"}, "started": "booted", "test": null}</pre>
 * A restore test adds what it proved:
 * <pre>"test": {"passed": true, "proof": "agent", "secondsToLife": 7.4, "detail": "…"}</pre>
 *
 * @param status  the exit status
 * @param backup  the absolute path of the backup restored
 * @param domain  the restored domain's name; for a restore test, the clone's temporary name; null when
 *                the run ended before it chose one
 * @param uuid    the restored domain's UUID, null when no domain was defined
 * @param disks   each restored disk's image, by target; empty when none was written (and, for a restore
 *                test, the images it removed again)
 * @param started {@code resumed} (from the backup's RAM), {@code booted}, or null when not started
 * @param test    what a restore test found; null for a plain restore
 */
public record RestoreResult(int status, String backup, String domain, String uuid, Map<String, String> disks,
                            String started, TestOutcome test) {
    private static final String STATUS = "status";
    private static final String BACKUP = "backup";
    private static final String DOMAIN = "domain";
    private static final String UUID = "uuid";
    private static final String DISKS = "disks";
    private static final String STARTED = "started";
    private static final String TEST = "test";
    private static final String PASSED = "passed";
    private static final String PROOF = "proof";
    private static final String SECONDS_TO_LIFE = "secondsToLife";
    private static final String DETAIL = "detail";

    public RestoreResult {
        disks = Collections.unmodifiableMap(new LinkedHashMap<>(disks));
    }

    /**
     * What a restore test found.
     *
     * @param passed        whether the clone showed life
     * @param proof         the criterion it was held to: {@code agent}, {@code console} or {@code running}
     *                      (see {@link LifeProof}); null when it never got to boot
     * @param secondsToLife from the start of the clone to the proof, null when there was none
     * @param detail        one line: what was seen, or why it failed
     */
    public record TestOutcome(boolean passed, String proof, Double secondsToLife, String detail) {
    }

    public String toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put(STATUS, status);
        json.put(BACKUP, backup);
        json.put(DOMAIN, domain);
        json.put(UUID, uuid);
        json.put(DISKS, disks);
        json.put(STARTED, started);
        if (test == null) {
            json.put(TEST, null);
        } else {
            Map<String, Object> found = new LinkedHashMap<>();
            found.put(PASSED, test.passed());
            found.put(PROOF, test.proof());
            found.put(SECONDS_TO_LIFE, test.secondsToLife());
            found.put(DETAIL, test.detail());
            json.put(TEST, found);
        }
        return Json.write(json);
    }

    /**
     * Reads a result's text; null when it is empty (the run ended before it wrote one).
     *
     * @throws IllegalArgumentException when the text is not a result a restore writes
     */
    public static RestoreResult parse(String json) {
        if (json.isBlank()) {
            return null;
        }
        Map<?, ?> result = Json.object(json);
        int status = Json.status(result);
        Map<String, String> disks = new LinkedHashMap<>();
        if (result.get(DISKS) instanceof Map<?, ?> written) {
            written.forEach((target, path) -> disks.put(String.valueOf(target), String.valueOf(path)));
        } else if (result.get(DISKS) != null) {
            throw new IllegalArgumentException("disks is not an object");
        }
        return new RestoreResult(status, Json.text(result, BACKUP), Json.text(result, DOMAIN), Json.text(result, UUID),
                disks, Json.text(result, STARTED), testOutcome(result.get(TEST)));
    }

    private static TestOutcome testOutcome(Object value) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof Map<?, ?> test) || !(test.get(PASSED) instanceof Boolean passed)) {
            throw new IllegalArgumentException("test is not an object with a passed flag");
        }
        Object seconds = test.get(SECONDS_TO_LIFE);
        if (seconds != null && !(seconds instanceof Number)) {
            throw new IllegalArgumentException(SECONDS_TO_LIFE + " is not a number");
        }
        return new TestOutcome(passed, Json.text(test, PROOF), seconds == null ? null : ((Number) seconds).doubleValue(),
                Json.text(test, DETAIL));
    }
}
