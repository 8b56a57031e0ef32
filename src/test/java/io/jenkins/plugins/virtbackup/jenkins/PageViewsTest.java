package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The build and job page views, read as the XML they are: every property path of every {@code ${...}}
 * expression ({@code it.records}, {@code record.dataMoved}, {@code it.getBadgeText()}) must name a getter
 * of the object it is read from, following {@code j:forEach} variables to their lists' element types.
 * Jelly would render a misspelt or renamed property as nothing, silently; this test fails instead.
 */
class PageViewsTest {
    private static final Path RESOURCES = Path.of("src/main/resources");
    /** A property path: a name, then one or more {@code .name} or {@code .getName()} steps. */
    private static final Pattern PATH = Pattern.compile("(?<![\\w.%'\"])([a-zA-Z_]\\w*)((?:\\.[a-zA-Z_]\\w*(?:\\(\\))?)+)");
    private static final Pattern EXPRESSION = Pattern.compile("\\$\\{([^}]*)}");
    private static final String JELLY_CORE = "jelly:core";
    /**
     * Words Jenkins' JEXL (1.1) parses as operators or functions: a property step named so makes the
     * whole view fail to load ({@code image.size}: "Unable to create expression").
     */
    private static final Set<String> JEXL_WORDS = Set.of("size", "empty", "not", "and", "or", "div", "mod", "eq",
            "ne", "lt", "gt", "le", "ge", "null", "true", "false", "new");

    @ParameterizedTest
    @CsvSource({
            "io.jenkins.plugins.virtbackup.jenkins.BackupBuildAction, summary.jelly, 29",
            "io.jenkins.plugins.virtbackup.jenkins.BackupBuildAction, badge.jelly, 3",
            "io.jenkins.plugins.virtbackup.jenkins.BackupTrendAction, jobMain.jelly, 20"})
    void everyExpressionNamesAGetter(String className, String view, int atLeast) throws Exception {
        Class<?> type = Class.forName(className);
        Path file = RESOURCES.resolve(className.replace('.', '/')).resolve(view);
        Element root;
        try (InputStream in = Files.newInputStream(file)) {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            root = factory.newDocumentBuilder().parse(in).getDocumentElement();
        }
        Map<String, Type> scope = new HashMap<>();
        scope.put("it", type);
        List<String> checked = new ArrayList<>();
        check(root, scope, checked);
        assertThat(checked).as("property paths checked in %s", file).hasSizeGreaterThanOrEqualTo(atLeast);
    }

    /** The checker itself: a path through a getter that does not exist fails, naming it. */
    @Test
    void aRenamedGetterFails() {
        Map<String, Type> scope = Map.of("it", BackupBuildAction.class);
        assertThat(resolve("it.records", scope)).isNotNull();
        assertThatThrownBy(() -> resolve("it.record", scope)).hasMessageContaining("record");
        assertThatThrownBy(() -> resolve("it.getBadgeTxt()", scope)).hasMessageContaining("getBadgeTxt");
        Map<String, Type> loop = new HashMap<>(scope);
        loop.put("record", elementType(resolve("it.records", scope)));
        assertThat(resolve("record.images", loop)).isNotNull();
        assertThatThrownBy(() -> resolve("record.dataMovd", loop)).hasMessageContaining("dataMovd");
        assertThatThrownBy(() -> resolve("image.size", loop)).hasMessageContaining("image");
        loop.put("image", elementType(resolve("record.images", loop)));
        assertThatThrownBy(() -> resolve("image.size", loop)).hasMessageContaining("a word of JEXL");
    }

    /** Checks {@code element}'s expressions, then its children's; a forEach adds its variable for its body. */
    private static void check(Element element, Map<String, Type> scope, List<String> checked) {
        Map<String, Type> inner = scope;
        for (int i = 0; i < element.getAttributes().getLength(); i++) {
            Node attribute = element.getAttributes().item(i);
            if (!attribute.getNodeName().startsWith("xmlns")) {
                checkText(attribute.getNodeValue(), scope, checked);
            }
        }
        if (JELLY_CORE.equals(element.getNamespaceURI()) && "forEach".equals(element.getLocalName())) {
            Matcher items = EXPRESSION.matcher(element.getAttribute("items"));
            assertThat(items.matches()).as("forEach items %s", element.getAttribute("items")).isTrue();
            inner = new HashMap<>(scope);
            inner.put(element.getAttribute("var"), elementType(resolve(items.group(1).trim(), scope)));
        }
        for (Node child = element.getFirstChild(); child != null; child = child.getNextSibling()) {
            if (child instanceof Element childElement) {
                check(childElement, inner, checked);
            } else if (child.getNodeType() == Node.TEXT_NODE) {
                checkText(child.getNodeValue(), inner, checked);
            }
        }
    }

    private static void checkText(String text, Map<String, Type> scope, List<String> checked) {
        Matcher expression = EXPRESSION.matcher(text);
        while (expression.find()) {
            String body = expression.group(1);
            if (body.startsWith("%")) {
                assertThat(body).as("a label Jelly reads as an expression").doesNotContain("(", ")", ",");
                continue;
            }
            Matcher path = PATH.matcher(body);
            while (path.find()) {
                resolve(path.group(), scope);
                checked.add(path.group());
            }
        }
    }

    /** The type a path leads to, each step through a public getter of the type before. */
    private static Type resolve(String path, Map<String, Type> scope) {
        String[] steps = path.split("\\.");
        Type type = scope.get(steps[0]);
        if (type == null) {
            throw new AssertionError("'" + steps[0] + "' in " + path + " is no variable of the view: " + scope.keySet());
        }
        for (int i = 1; i < steps.length; i++) {
            if (JEXL_WORDS.contains(steps[i])) {
                throw new AssertionError(path + ": '" + steps[i] + "' is a word of JEXL, not a property to it");
            }
            Method getter = getter(raw(type), steps[i]);
            if (getter == null) {
                throw new AssertionError(path + ": " + raw(type).getSimpleName() + " has no getter for '" + steps[i]
                        + "'");
            }
            type = getter.getGenericReturnType();
        }
        return type;
    }

    private static Method getter(Class<?> type, String step) {
        List<String> names = new ArrayList<>();
        if (step.endsWith("()")) {
            names.add(step.substring(0, step.length() - 2));
        } else {
            String suffix = Character.toUpperCase(step.charAt(0)) + step.substring(1);
            names.add("get" + suffix);
            names.add("is" + suffix);
        }
        for (String name : names) {
            try {
                Method method = type.getMethod(name);
                if (java.lang.reflect.Modifier.isPublic(method.getDeclaringClass().getModifiers())) {
                    return method;
                }
            } catch (NoSuchMethodException e) {
                // the next form
            }
        }
        return null;
    }

    /** What a list holds, as its getter declares it. */
    private static Type elementType(Type list) {
        assertThat(list).as("a forEach over a declared List<T>").isInstanceOf(ParameterizedType.class);
        assertThat(raw(list)).isAssignableTo(List.class);
        return ((ParameterizedType) list).getActualTypeArguments()[0];
    }

    private static Class<?> raw(Type type) {
        return type instanceof ParameterizedType parameterized ? (Class<?>) parameterized.getRawType() : (Class<?>) type;
    }

    /** The page views are among the views whose Jenkins tags JenkinsFormsTest checks against the baseline. */
    @Test
    void thePageViewsAreWellFormedAndUnderTheResourcesChecked() throws Exception {
        try (Stream<Path> files = Files.walk(RESOURCES)) {
            assertThat(files.map(Path::toString).filter(f -> f.endsWith(".jelly")))
                    .contains(RESOURCES + "/io/jenkins/plugins/virtbackup/jenkins/BackupBuildAction/summary.jelly",
                            RESOURCES + "/io/jenkins/plugins/virtbackup/jenkins/BackupBuildAction/badge.jelly",
                            RESOURCES + "/io/jenkins/plugins/virtbackup/jenkins/BackupTrendAction/jobMain.jelly");
        }
    }
}
