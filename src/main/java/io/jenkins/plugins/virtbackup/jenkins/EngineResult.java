package io.jenkins.plugins.virtbackup.jenkins;

import io.jenkins.plugins.virtbackup.engine.store.Json;
import java.util.Map;

/**
 * What the engine's {@code --result-file} says about a run, read instead of its human log lines:
 * the exit status, the complete backup's directory on the node (null when the run made none) and
 * the domain. The engine writes it with {@code cli/ResultFile}.
 */
record EngineResult(int status, String backup, String domain) {

    /**
     * Reads the file's text; null when it is empty (the engine ended before it wrote one).
     *
     * @throws IllegalArgumentException when the text is not a result the engine writes
     */
    static EngineResult parse(String json) {
        if (json.isBlank()) {
            return null;
        }
        if (!(Json.parse(json) instanceof Map<?, ?> result)) {
            throw new IllegalArgumentException("not a JSON object");
        }
        if (!(result.get("status") instanceof Long status)) {
            throw new IllegalArgumentException("no status number");
        }
        return new EngineResult(status.intValue(), text(result, "backup"), text(result, "domain"));
    }

    private static String text(Map<?, ?> result, String key) {
        Object value = result.get(key);
        if (value != null && !(value instanceof String)) {
            throw new IllegalArgumentException(key + " is not a string");
        }
        return (String) value;
    }
}
