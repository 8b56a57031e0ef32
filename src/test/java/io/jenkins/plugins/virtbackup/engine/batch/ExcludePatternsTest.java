package io.jenkins.plugins.virtbackup.engine.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExcludePatternsTest {
    @Test
    void starIsAnyRunQuestionMarkOneCharacterTheRestLiteral() {
        ExcludePatterns patterns = new ExcludePatterns(List.of("test-*", "db?", "a.b", "[x]", "*-restore-test-*"));

        assertThat(List.of("test-", "test-web", "db1", "a.b", "[x]", "web-restore-test-1a2b3c4d"))
                .allMatch(patterns::excludes);
        assertThat(List.of("atest-web", "db", "db12", "aXb", "x", "Test-web", "web"))
                .noneMatch(patterns::excludes);
    }

    @Test
    void aStarCrossesEveryCharacter() {
        assertThat(new ExcludePatterns(List.of("*")).excludes("odd name 'q\" ü\nline")).isTrue();
        assertThat(new ExcludePatterns(List.of()).excludes("web")).isFalse();
    }

    @Test
    void patternsMatchingNoDomainAreNamedInOrder() {
        assertThat(new ExcludePatterns(List.of("web*", "nosuch", "d?")).matchingNone(List.of("web", "db")))
                .containsExactly("nosuch");
    }
}
