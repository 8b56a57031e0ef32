package io.jenkins.plugins.virtbackup.engine.batch;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code --exclude PATTERN}: shell-style globs matched against whole domain names, case-sensitively.
 * {@code *} matches any run of characters (none included), {@code ?} exactly one; every other
 * character, brackets and backslashes included, matches only itself. Domain names are not paths, so
 * {@code *} crosses {@code /} and {@code .} as well.
 */
public final class ExcludePatterns {
    private final Map<String, Pattern> patterns = new LinkedHashMap<>();

    public ExcludePatterns(List<String> globs) {
        for (String glob : globs) {
            patterns.put(glob, toRegex(glob));
        }
    }

    /** The regular expression a glob stands for. */
    static Pattern toRegex(String glob) {
        StringBuilder regex = new StringBuilder();
        StringBuilder literal = new StringBuilder();
        for (char c : glob.toCharArray()) {
            if (c == '*' || c == '?') {
                appendQuoted(literal, regex);
                regex.append(c == '*' ? ".*" : ".");
            } else {
                literal.append(c);
            }
        }
        appendQuoted(literal, regex);
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }

    private static void appendQuoted(StringBuilder literal, StringBuilder regex) {
        if (literal.length() > 0) {
            regex.append(Pattern.quote(literal.toString()));
            literal.setLength(0);
        }
    }

    /** Whether any pattern matches the whole name. */
    public boolean excludes(String domain) {
        return patterns.values().stream().anyMatch(p -> p.matcher(domain).matches());
    }

    /** The patterns that match none of {@code domains}, in the order given: likely typing errors. */
    public List<String> matchingNone(Collection<String> domains) {
        List<String> unused = new ArrayList<>();
        patterns.forEach((glob, pattern) -> {
            if (domains.stream().noneMatch(d -> pattern.matcher(d).matches())) {
                unused.add(glob);
            }
        });
        return unused;
    }
}
