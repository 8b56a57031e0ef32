package io.jenkins.plugins.virtbackup.engine;

import io.jenkins.plugins.virtbackup.engine.store.Json;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a run ended, for scripts and the Jenkins plugin ({@code --result-file}), so that nobody has
 * to parse the human log lines:
 * <pre>{"status": 0, "backup": "/srv/backup/web/20261203T021500Z", "domain": "web"}</pre>
 * One class writes it (the command line) and reads it (the plugin), so the two cannot drift.
 *
 * @param status the exit status
 * @param backup the absolute path of the complete backup directory, null when the run made none
 * @param domain the DOMAIN argument
 */
public record RunResult(int status, String backup, String domain) {
    private static final String STATUS = "status";
    private static final String BACKUP = "backup";
    private static final String DOMAIN = "domain";

    public String toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put(STATUS, status);
        json.put(BACKUP, backup);
        json.put(DOMAIN, domain);
        return Json.write(json);
    }

    /**
     * Reads a result's text; null when it is empty (the run ended before it wrote one).
     *
     * @throws IllegalArgumentException when the text is not a result a run writes
     */
    public static RunResult parse(String json) {
        if (json.isBlank()) {
            return null;
        }
        if (!(Json.parse(json) instanceof Map<?, ?> result)) {
            throw new IllegalArgumentException("not a JSON object");
        }
        if (!(result.get(STATUS) instanceof Long status)) {
            throw new IllegalArgumentException("no status number");
        }
        return new RunResult(status.intValue(), text(result, BACKUP), text(result, DOMAIN));
    }

    private static String text(Map<?, ?> result, String key) {
        Object value = result.get(key);
        if (value != null && !(value instanceof String)) {
            throw new IllegalArgumentException(key + " is not a string");
        }
        return (String) value;
    }
}
