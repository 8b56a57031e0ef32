package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.kohsuke.stapler.DataBoundConstructor;
import org.kohsuke.stapler.DataBoundSetter;
import org.kohsuke.stapler.QueryParameter;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The forms as Jenkins would bind them (no Jenkins here to render them): each {@code field} of a
 * {@code config.jelly} is a bound property with a matching getter and a help file, and each bound
 * property has its field; labels resolve; every view file is well-formed XML and uses only Jenkins
 * tags and attributes that exist.
 */
class JenkinsFormsTest {
    private static final Path RESOURCES = Path.of("src/main/resources");
    /** Every form of the plugin: each build step as a freestyle builder and as a pipeline step. */
    static final List<Class<?>> DESCRIBABLES = List.of(VirtBackupBuilder.class, VirtBackupStep.class,
            VirtBackupRestoreBuilder.class, VirtBackupRestoreStep.class, VirtBackupRestoreTestBuilder.class,
            VirtBackupRestoreTestStep.class, BackupRetention.class);

    @ParameterizedTest
    @MethodSource("describables")
    void everyFieldIsABoundPropertyWithAGetterAndHelp(Class<?> describable) throws Exception {
        Document config = parse(describable, "config.jelly");
        Set<String> fields = new LinkedHashSet<>();
        for (String tag : List.of("entry", "optionalProperty")) {
            NodeList entries = config.getElementsByTagNameNS("/lib/form", tag);
            for (int i = 0; i < entries.getLength(); i++) {
                fields.add(((Element) entries.item(i)).getAttribute("field"));
            }
        }
        Map<String, Type> bound = boundProperties(describable);

        assertThat(fields).as("fields of %s/config.jelly", describable.getSimpleName())
                .containsExactlyInAnyOrderElementsOf(bound.keySet());
        for (String field : fields) {
            Method getter = getter(describable, field);
            assertThat(getter).as("getter of %s", field).isNotNull();
            assertThat(getter.getGenericReturnType()).as("getter type of %s", field).isEqualTo(bound.get(field));
            assertThat(describable.getResource(describable.getSimpleName() + "/help-" + field + ".html"))
                    .as("help-%s.html", field).isNotNull();
        }
        assertThat(describable.getResource(describable.getSimpleName() + "/help.html")).isNotNull();
    }

    static List<Class<?>> describables() {
        return DESCRIBABLES;
    }

    @ParameterizedTest
    @MethodSource("describables")
    void formMethodsNameRealFieldsAndLabelsResolve(Class<?> describable) throws Exception {
        Set<String> bound = boundProperties(describable).keySet();
        Class<?> descriptor = Class.forName(describable.getName() + "$DescriptorImpl");
        for (Method m : descriptor.getDeclaredMethods()) {
            Matcher check = Pattern.compile("doCheck(\\w+)|doFill(\\w+)Items").matcher(m.getName());
            if (check.matches()) {
                String field = decapitalize(check.group(1) != null ? check.group(1) : check.group(2));
                assertThat(bound).as("%s names a field", m.getName()).contains(field);
                for (Parameter p : m.getParameters()) {
                    // Stapler takes the names from -parameters (there is no stapler annotation processor here).
                    assertThat(p.isNamePresent()).isTrue();
                    assertThat(p.isAnnotationPresent(QueryParameter.class)).isTrue();
                }
            }
        }
        if (bound.contains("mode")) {
            assertThat(descriptor.getMethod("doFillModeItems")).isNotNull();
            assertThat(descriptor.getMethod("doFillLevelItems")).isNotNull();
            // Quiesce and the overlay directory are checked against the mode, under the mode.
            assertThat(descriptor.getMethod("doCheckMode", String.class, boolean.class, String.class)).isNotNull();
        }
        if (bound.contains("snapshotSize")) {
            // Its check depends on the mode: a size the mode does not use is a warning under it.
            assertThat(descriptor.getMethod("doCheckSnapshotSize", String.class, String.class)).isNotNull();
        }
        if (bound.contains("proof")) {
            assertThat(descriptor.getMethod("doFillProofItems")).isNotNull();
        }
        // Every text field that can be wrong gets its message as soon as it changes.
        for (String field : List.of("backup", "uri", "name", "diskDir", "timeout", "consolePattern", "overlayDir",
                "stateDir", "errorLog")) {
            if (bound.contains(field)) {
                assertThat(descriptor.getMethod("doCheck" + Character.toUpperCase(field.charAt(0))
                        + field.substring(1), String.class)).as("check of %s", field).isNotNull();
            }
        }

        String jelly = Files.readString(RESOURCES.resolve(path(describable, "config.jelly")));
        Properties labels = new Properties();
        try (InputStream in = describable.getResourceAsStream(describable.getSimpleName() + "/config.properties")) {
            labels.load(in);
        }
        Matcher label = Pattern.compile("\\$\\{%([^}]+)}").matcher(jelly);
        int count = 0;
        while (label.find()) {
            assertThat(labels).as("label '%s'", label.group(1)).containsKey(label.group(1));
            assertThat(label.group(1)).as("a label: Jelly parses what is in parentheses as an expression, which "
                    + "words with blanks between are not").doesNotMatch(".*\\([^)]*\\s[^)]*\\).*");
            count++;
        }
        assertThat(count).isEqualTo(boundProperties(describable).size());
    }

    @Test
    void everyViewFileIsWellFormed() throws Exception {
        List<Path> views = views(".jelly", ".html");
        int formFiles = 0;
        for (Class<?> describable : DESCRIBABLES) {
            formFiles += 2 + boundProperties(describable).size();   // config.jelly, help.html, help-FIELD.html
        }
        assertThat(views).hasSizeGreaterThanOrEqualTo(formFiles + 1);
        for (Path view : views) {
            try (InputStream in = Files.newInputStream(view)) {
                assertThat(builder().parse(in).getDocumentElement()).as("%s", view).isNotNull();
            }
        }
    }

    /**
     * Every tag of a Jenkins tag library in our views exists at the baseline with the attributes given,
     * and every required attribute is there: Jelly would write an unknown tag out as a literal element
     * and ignore an unknown attribute, so nothing else would notice. The reference ({@code api/jelly-tags.txt},
     * from the shared Jenkins API data) lists each tag's declared attributes.
     */
    @Test
    void everyJenkinsTagAndAttributeExistsAtTheBaseline() throws Exception {
        Map<String, List<String>> attributes = new HashMap<>();
        Set<String> deprecated = new HashSet<>();
        try (InputStream in = getClass().getResourceAsStream("api/jelly-tags.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                int comment = line.indexOf('#');
                List<String> words = List.of((comment < 0 ? line : line.substring(0, comment)).trim().split("\\s+"));
                if (!words.get(0).isEmpty()) {
                    attributes.put(words.get(0), words.subList(1, words.size()));
                    if (comment >= 0 && line.substring(comment).contains("deprecated")) {
                        deprecated.add(words.get(0));
                    }
                }
            }
        }
        int checked = 0;
        for (Path view : views(".jelly")) {
            NodeList elements;
            try (InputStream in = Files.newInputStream(view)) {
                elements = builder().parse(in).getElementsByTagName("*");
            }
            for (int i = 0; i < elements.getLength(); i++) {
                Element element = (Element) elements.item(i);
                String namespace = element.getNamespaceURI();
                if (namespace != null && (namespace.startsWith("/lib/") || namespace.equals("jelly:stapler"))) {
                    checkTag(view, element, (namespace.startsWith("/lib/") ? namespace : "st") + ":"
                            + element.getLocalName(), attributes, deprecated);
                    checked++;
                }
            }
        }
        // Each field's entry and widget (a nested describable's optional property: one tag), and the
        // advanced section of every step's form.
        int expected = 0;
        for (Class<?> describable : DESCRIBABLES) {
            for (Type type : boundProperties(describable).values()) {
                expected += type == BackupRetention.class ? 1 : 2;
            }
            expected += describable == BackupRetention.class ? 0 : 1;
        }
        assertThat(checked).isEqualTo(expected);
    }

    private static void checkTag(Path view, Element element, String tag, Map<String, List<String>> attributes,
                                 Set<String> deprecated) {
        assertThat(attributes).as("%s: <%s>", view, tag).containsKey(tag);
        assertThat(deprecated).as("%s: <%s> is deprecated", view, tag).doesNotContain(tag);
        List<String> declared = attributes.get(tag);
        for (int a = 0; a < element.getAttributes().getLength(); a++) {
            String name = element.getAttributes().item(a).getNodeName();
            assertThat(declared).as("%s: attribute %s of <%s>", view, name, tag)
                    .containsAnyOf(name, name + "(required)").doesNotContain(name + "(deprecated)");
        }
        for (String attribute : declared) {
            if (attribute.endsWith("(required)")) {
                String name = attribute.substring(0, attribute.indexOf('('));
                assertThat(element.hasAttribute(name)).as("%s: <%s> needs %s", view, tag, name).isTrue();
            }
        }
    }

    /** Every file under the resources whose name ends with one of {@code suffixes}. */
    private static List<Path> views(String... suffixes) throws IOException {
        try (Stream<Path> files = Files.walk(RESOURCES)) {
            return files.filter(f -> Stream.of(suffixes).anyMatch(f.toString()::endsWith)).toList();
        }
    }

    /** Constructor parameters (by the names Stapler reads) and setter properties. */
    static Map<String, Type> boundProperties(Class<?> describable) {
        Map<String, Type> bound = new HashMap<>();
        for (Constructor<?> c : describable.getConstructors()) {
            if (c.isAnnotationPresent(DataBoundConstructor.class)) {
                for (Parameter p : c.getParameters()) {
                    assertThat(p.isNamePresent()).as("compiled with -parameters").isTrue();
                    bound.put(p.getName(), p.getParameterizedType());
                }
            }
        }
        for (Method m : describable.getMethods()) {
            if (m.isAnnotationPresent(DataBoundSetter.class)) {
                assertThat(m.getName()).startsWith("set");
                assertThat(m.getParameterCount()).isOne();
                bound.put(decapitalize(m.getName().substring(3)), m.getGenericParameterTypes()[0]);
            }
        }
        return bound;
    }

    static Method getter(Class<?> type, String property) {
        String suffix = Character.toUpperCase(property.charAt(0)) + property.substring(1);
        for (String name : List.of("get" + suffix, "is" + suffix)) {
            try {
                return type.getMethod(name);
            } catch (NoSuchMethodException e) {
                // try the next form
            }
        }
        return null;
    }

    private static String decapitalize(String s) {
        return Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    private static String path(Class<?> describable, String file) {
        return describable.getName().replace('.', '/') + "/" + file;
    }

    private static Document parse(Class<?> describable, String file) throws Exception {
        try (InputStream in = Files.newInputStream(RESOURCES.resolve(path(describable, file)))) {
            return builder().parse(in);
        }
    }

    private static javax.xml.parsers.DocumentBuilder builder() throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        return factory.newDocumentBuilder();
    }
}
