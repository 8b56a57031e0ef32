package io.jenkins.plugins.virtbackup.engine.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void readsBackWhatItWrites() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("name", "web \"prod\" \\ ünïcode\n\ttab \u0001");
        value.put("size", 123456789012L);
        value.put("ratio", 0.5);
        value.put("ok", true);
        value.put("missing", null);
        value.put("list", List.of(1L, "two", Map.of("three", 3L)));
        value.put("empty", Map.of());
        value.put("none", List.of());

        assertThat(Json.parse(Json.write(value))).isEqualTo(value);
    }

    @Test
    void keepsKeyOrder() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("z", 1L);
        value.put("a", 2L);
        @SuppressWarnings("unchecked")
        Map<String, Object> parsed = (Map<String, Object>) Json.parse(Json.write(value));
        assertThat(parsed.keySet()).containsExactly("z", "a");
    }

    @Test
    void rejectsBrokenJson() {
        for (String broken : Arrays.asList("{", "{\"a\" 1}", "[1,]x", "\"open", "{\"a\":1} trailing", "nul")) {
            assertThatThrownBy(() -> Json.parse(broken)).as(broken).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
