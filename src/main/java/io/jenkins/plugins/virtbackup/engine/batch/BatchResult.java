package io.jenkins.plugins.virtbackup.engine.batch;

import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.RunResult;
import io.jenkins.plugins.virtbackup.engine.store.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a run of many domains ({@code --all}) ended, for {@code --result-file}: its exit status (the
 * worst of its domains', see {@link ExitStatus#worst}) and one entry per domain, in the order they
 * were listed:
 * <pre>{"status": 1, "domains": [
 *   {"domain": "db", "status": 1, "backup": null, "level": null, "parent": null,
 *    "error": "domain 'db' is paused and cannot shut down; ...", "durationMs": 12},
 *   {"domain": "web", "status": 0, "backup": "/srv/backup/web/20261203T021500Z", "level": "full",
 *    "parent": null, "error": null, "durationMs": 5230}]}</pre>
 * The list is empty when the run failed before any domain (hypervisor unreachable, no domain to back
 * up). One class writes it (the command line) and reads it (the Jenkins plugin).
 */
public record BatchResult(int status, List<DomainResult> domains) {
    private static final String STATUS = "status";
    private static final String DOMAINS = "domains";

    public BatchResult {
        domains = List.copyOf(domains);
    }

    /**
     * One domain's part.
     *
     * @param backup     the complete backup's absolute path; null when it failed
     * @param level      the backup's level (full, inc or diff); null when it failed
     * @param parent     the absolute path of the backup it builds on; null for a full backup or none
     * @param error      the one-line reason it failed; null when it completed
     * @param durationMs how long its run took
     */
    public record DomainResult(String domain, int status, String backup, String level, String parent, String error,
                               long durationMs) {
        private static final String DOMAIN = "domain";
        private static final String BACKUP = "backup";
        private static final String LEVEL = "level";
        private static final String PARENT = "parent";
        private static final String ERROR = "error";
        private static final String DURATION = "durationMs";

        static DomainResult of(DomainOutcome outcome) {
            long millis = outcome.duration().toMillis();
            if (outcome.backup() == null) {
                return new DomainResult(outcome.domain(), outcome.status().code(), null, null, null, outcome.error(),
                        millis);
            }
            RunResult run = RunResult.of(outcome.status().code(), outcome.backup(), outcome.domain());
            return new DomainResult(outcome.domain(), run.status(), run.backup(), run.level(), run.parent(), null,
                    millis);
        }

        /** The same as a single domain's run would have written it. */
        public RunResult asRunResult() {
            return new RunResult(status, backup, domain, level, parent);
        }

        private Map<String, Object> toMap() {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put(DOMAIN, domain);
            json.put(STATUS, status);
            json.put(BACKUP, backup);
            json.put(LEVEL, level);
            json.put(PARENT, parent);
            json.put(ERROR, error);
            json.put(DURATION, durationMs);
            return json;
        }

        private static DomainResult fromMap(Object entry) {
            if (!(entry instanceof Map<?, ?> map) || !(map.get(STATUS) instanceof Long status)) {
                throw new IllegalArgumentException("a domain's entry has no status number");
            }
            String domain = Json.text(map, DOMAIN);
            if (domain == null) {
                throw new IllegalArgumentException("a domain's entry names no domain");
            }
            long millis = map.get(DURATION) instanceof Long duration ? duration : 0;
            return new DomainResult(domain, status.intValue(), Json.text(map, BACKUP), Json.text(map, LEVEL),
                    Json.text(map, PARENT), Json.text(map, ERROR), millis);
        }
    }

    /** The result of a run whose domains ended as {@code outcomes}; its status is the worst of theirs. */
    public static BatchResult of(List<DomainOutcome> outcomes) {
        List<DomainResult> results = new ArrayList<>();
        List<ExitStatus> statuses = new ArrayList<>();
        for (DomainOutcome outcome : outcomes) {
            results.add(DomainResult.of(outcome));
            statuses.add(outcome.status());
        }
        return new BatchResult(ExitStatus.worst(statuses).code(), results);
    }

    /** The result of a run that failed before any domain. */
    public static BatchResult withoutDomains(int status) {
        return new BatchResult(status, List.of());
    }

    public String toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put(STATUS, status);
        List<Object> entries = new ArrayList<>();
        domains.forEach(d -> entries.add(d.toMap()));
        json.put(DOMAINS, entries);
        return Json.write(json);
    }

    /**
     * Reads a result's text; null when it is empty (the run ended before it wrote one).
     *
     * @throws IllegalArgumentException when the text is not a result a run of many domains writes
     */
    public static BatchResult parse(String json) {
        if (json.isBlank()) {
            return null;
        }
        Map<?, ?> result = Json.object(json);
        int status = Json.status(result);
        if (!(result.get(DOMAINS) instanceof List<?> entries)) {
            throw new IllegalArgumentException("no list of domains");
        }
        List<DomainResult> domains = new ArrayList<>();
        entries.forEach(entry -> domains.add(DomainResult.fromMap(entry)));
        return new BatchResult(status, domains);
    }
}
