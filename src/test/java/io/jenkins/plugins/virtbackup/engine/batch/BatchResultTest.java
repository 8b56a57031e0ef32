package io.jenkins.plugins.virtbackup.engine.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.RunResult;
import io.jenkins.plugins.virtbackup.engine.batch.BatchResult.DomainResult;
import io.jenkins.plugins.virtbackup.engine.store.Json;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The result file of {@code --all}: what the command line writes is what the plugin reads. */
class BatchResultTest {
    private static final BatchResult RESULT = new BatchResult(1, List.of(
            new DomainResult("db", 1, null, null, null, "domain 'db' is paused", 12),
            new DomainResult("web", 0, "/srv/backup/web/20261203T023000Z", "inc", "/srv/backup/web/20261202T023000Z",
                    null, 5230)));

    @Test
    void writtenAsTheManualShowsAndReadBack() {
        String json = RESULT.toJson();

        Map<String, Object> web = new LinkedHashMap<>();
        web.put("domain", "web");
        web.put("status", 0L);
        web.put("backup", "/srv/backup/web/20261203T023000Z");
        web.put("level", "inc");
        web.put("parent", "/srv/backup/web/20261202T023000Z");
        web.put("error", null);
        web.put("durationMs", 5230L);
        Map<?, ?> parsed = Json.object(json);
        assertThat(new java.util.ArrayList<Object>(parsed.keySet())).containsExactly("status", "domains");
        assertThat(((List<?>) parsed.get("domains")).get(1)).isEqualTo(web);
        assertThat(BatchResult.parse(json)).isEqualTo(RESULT);
        assertThat(RESULT.domains().get(1).asRunResult()).isEqualTo(new RunResult(0,
                "/srv/backup/web/20261203T023000Z", "web", "inc", "/srv/backup/web/20261202T023000Z"));
    }

    @Test
    void anEmptyFileIsNoResultAndOtherTextIsRefused() {
        assertThat(BatchResult.parse(" \n")).isNull();
        for (String bad : Arrays.asList("[]", "{\"domains\": []}", "{\"status\": 1}",
                "{\"status\": 1, \"domains\": [{\"status\": 0}]}", "{\"status\": 1, \"domains\": [{\"domain\": \"w\"}]}",
                "{\"status\": 1, \"domains\": [7]}")) {
            assertThatThrownBy(() -> BatchResult.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(BatchResult.parse("{\"status\": 4, \"domains\": [], \"later\": true}"))
                .as("keys it does not know are ignored").isEqualTo(BatchResult.withoutDomains(4));
    }
}
