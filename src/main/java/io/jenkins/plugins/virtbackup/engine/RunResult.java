package io.jenkins.plugins.virtbackup.engine;

import io.jenkins.plugins.virtbackup.engine.store.Increment;
import io.jenkins.plugins.virtbackup.engine.store.Json;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a run ended, for scripts and the Jenkins plugin ({@code --result-file}), so that nobody has
 * to parse the human log lines:
 * <pre>{"status": 0, "backup": "/srv/backup/web/20261203T021500Z", "domain": "web", "level": "inc",
 *  "parent": "/srv/backup/web/20261202T021500Z"}</pre>
 * One class writes it (the command line) and reads it (the plugin), so the two cannot drift.
 *
 * @param status the exit status
 * @param backup the absolute path of the complete backup directory, null when the run made none
 * @param domain the DOMAIN argument
 * @param level  the backup's level ({@code full}, {@code inc} or {@code diff}: what {@code auto} became),
 *               null when the run made none; null too in results of versions before levels
 * @param parent the absolute path of the backup this one builds on, null for a full backup or none
 */
public record RunResult(int status, String backup, String domain, String level, String parent) {
    private static final String STATUS = "status";
    private static final String BACKUP = "backup";
    private static final String DOMAIN = "domain";
    private static final String LEVEL = "level";
    private static final String PARENT = "parent";

    /** The result of a run that left no complete backup. */
    public static RunResult withoutBackup(int status, String domain) {
        return new RunResult(status, null, domain, null, null);
    }

    /** The result of a run that completed {@code backup}, as its manifest describes it. */
    public static RunResult of(int status, CompletedBackup backup, String domain) {
        Increment increment = backup.manifest().increment();
        // The manifest names the parent by its folder name: a sibling of the backup's own folder.
        String parent = increment.parent() == null ? null
                : backup.directory().resolveSibling(increment.parent()).toAbsolutePath().toString();
        return new RunResult(status, backup.directory().toAbsolutePath().toString(), domain,
                increment.level().cliName(), parent);
    }

    public String toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put(STATUS, status);
        json.put(BACKUP, backup);
        json.put(DOMAIN, domain);
        json.put(LEVEL, level);
        json.put(PARENT, parent);
        return Json.write(json);
    }

    /**
     * Reads a result's text; null when it is empty (the run ended before it wrote one). Keys it does
     * not know are ignored and keys a result of an older version lacks read as null.
     *
     * @throws IllegalArgumentException when the text is not a result a run writes
     */
    public static RunResult parse(String json) {
        if (json.isBlank()) {
            return null;
        }
        Map<?, ?> result = Json.object(json);
        int status = Json.status(result);
        return new RunResult(status, Json.text(result, BACKUP), Json.text(result, DOMAIN),
                Json.text(result, LEVEL), Json.text(result, PARENT));
    }
}
