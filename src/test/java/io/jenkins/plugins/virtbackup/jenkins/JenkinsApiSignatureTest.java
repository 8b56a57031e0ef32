package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.Target;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The compile-only Jenkins API declarations ({@code src/jenkins-api/java}) against the reference
 * extracted from the Jenkins sources (test resources {@code api/}, see {@code api/SOURCES.txt}):
 * every line derived from them by reflection must be a line of the reference, must not be newer than
 * the baseline 2.541.3, and must not be {@code @Restricted}.
 */
class JenkinsApiSignatureTest {
    static final Path DECLARATIONS = Path.of("src/jenkins-api/java");
    private static final String API = "api/";

    private static Set<String> reference;
    private static List<String> declared;

    @BeforeAll
    static void derive() throws Exception {
        reference = new HashSet<>();
        reference.addAll(lines("signatures.txt"));
        reference.addAll(lines("signatures-supertypes.txt"));
        declared = new ArrayList<>();
        for (Class<?> type : declaredTypes()) {
            declared.addAll(linesOf(type));
        }
    }

    @Test
    void everyDeclaredLineIsInTheReference() {
        assertThat(declared).hasSizeGreaterThan(100);
        List<String> unknown = declared.stream().filter(line -> !reference.contains(line)).toList();
        assertThat(unknown).as("declarations that differ from the Jenkins API").isEmpty();
    }

    @Test
    void nothingNewerThanTheBaseline() throws IOException {
        Set<String> newer = lines("baseline-diff-2.541.3-vs-2.568.2.txt").stream()
                .filter(line -> line.startsWith("+ ")).map(line -> line.substring(2)).collect(Collectors.toSet());
        assertThat(newer).isNotEmpty();
        assertThat(declared).as("members Jenkins 2.541.3 does not have").noneMatch(newer::contains);
    }

    /**
     * Restricted members are off limits. The one exception: {@code @Restricted(Beta.class)} types that
     * are declared only because a type we use extends them ({@code Run} implements {@code HistoricalBuild},
     * {@code Computer} implements {@code IComputer}); we declare no member of them and never name them.
     */
    @Test
    void nothingRestricted() throws IOException {
        Set<String> restricted = new HashSet<>();
        Set<String> betaTypes = new HashSet<>();
        for (String line : lines("annotations-extra.txt")) {
            if (line.startsWith("@Restricted(")) {
                String signature = line.substring(line.indexOf("| ") + 2);
                restricted.add(signature);
                if (line.startsWith("@Restricted(Beta.class)") && signature.startsWith("C ")) {
                    betaTypes.add(signature.split(" ")[1]);
                }
            }
        }
        assertThat(restricted).hasSizeGreaterThan(100);
        List<String> used = declared.stream().filter(restricted::contains).toList();
        for (String line : used) {
            String type = line.split(" ")[1];
            assertThat(betaTypes).as("restricted: %s", line).contains(type);
            assertThat(line).as("restricted: %s", line).startsWith("C ");
            assertThat(declared).as("members of the restricted type %s", type)
                    .noneMatch(other -> !other.startsWith("C ") && other.split(" ")[1].equals(type));
        }
        assertThat(mainSourcesNaming(betaTypes)).as("our code names a restricted type").isEmpty();
    }

    /** The line format itself, on a few lines the reference is known to hold. */
    @Test
    void derivedLinesHaveTheReferenceFormat() {
        assertThat(declared).contains(
                "C hudson.FilePath final,public class extends java.lang.Object implements "
                        + "org.jenkinsci.remoting.SerializableOnlyOverRemoting",
                "A hudson.Extension retention=RUNTIME target=FIELD,METHOD,TYPE",
                "K hudson.Launcher$ProcStarter public () throws -",
                "M hudson.FilePath$FileCallable abstract,public java.lang.Object invoke(java.io.File,"
                        + "hudson.remoting.VirtualChannel) throws java.io.IOException,java.lang.InterruptedException");
        assertThat(reference).containsAll(List.of(
                "K hudson.Launcher$ProcStarter public () throws -",
                "A org.kohsuke.stapler.DataBoundSetter retention=RUNTIME target=FIELD,METHOD"));
    }

    static List<Class<?>> declaredTypes() throws IOException, ClassNotFoundException {
        List<Class<?>> types = new ArrayList<>();
        try (Stream<Path> files = Files.walk(DECLARATIONS)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                String name = DECLARATIONS.relativize(file).toString().replace('/', '.').replaceAll("\\.java$", "");
                addWithNested(Class.forName(name), types);
            }
        }
        return types;
    }

    private static void addWithNested(Class<?> type, List<Class<?>> types) {
        types.add(type);
        for (Class<?> nested : type.getDeclaredClasses()) {
            if (Modifier.isPublic(nested.getModifiers()) || Modifier.isProtected(nested.getModifiers())) {
                addWithNested(nested, types);
            }
        }
    }

    static List<String> linesOf(Class<?> type) {
        List<String> out = new ArrayList<>();
        out.add("C " + type.getName() + " " + modifiers(type.getModifiers(), false) + " " + kind(type)
                + " extends " + (type.isInterface() || type.getSuperclass() == null ? "-" : type.getSuperclass().getName())
                + " implements " + names(type.getInterfaces()));
        if (type.isAnnotation()) {
            Retention retention = type.getAnnotation(Retention.class);
            Target target = type.getAnnotation(Target.class);
            out.add("A " + type.getName() + " retention=" + retention.value() + " target="
                    + (target == null ? "-" : Arrays.stream(target.value()).map(ElementType::name).sorted()
                    .collect(Collectors.joining(","))));
        }
        boolean inner = type.isMemberClass() && !Modifier.isStatic(type.getModifiers());
        for (Constructor<?> c : type.getDeclaredConstructors()) {
            if (visible(c.getModifiers()) && !c.isSynthetic()) {
                Class<?>[] params = c.getParameterTypes();
                if (inner) {
                    params = Arrays.copyOfRange(params, 1, params.length);
                }
                out.add("K " + type.getName() + " " + modifiers(c.getModifiers(), false) + " (" + typeNames(params)
                        + ") throws " + names(c.getExceptionTypes()));
            }
        }
        for (Method m : type.getDeclaredMethods()) {
            if (visible(m.getModifiers()) && !m.isSynthetic() && !m.isBridge()) {
                out.add("M " + type.getName() + " " + modifiers(m.getModifiers(), m.isDefault()) + " "
                        + m.getReturnType().getTypeName() + " " + m.getName() + "(" + typeNames(m.getParameterTypes())
                        + ") throws " + names(m.getExceptionTypes()));
            }
        }
        for (Field f : type.getDeclaredFields()) {
            if (visible(f.getModifiers()) && !f.isSynthetic()) {
                out.add("F " + type.getName() + " " + modifiers(f.getModifiers(), false) + " "
                        + f.getType().getTypeName() + " " + f.getName());
            }
        }
        return out;
    }

    private static boolean visible(int modifiers) {
        return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
    }

    private static String kind(Class<?> type) {
        return type.isAnnotation() ? "annotation" : type.isInterface() ? "interface" : type.isEnum() ? "enum" : "class";
    }

    private static String modifiers(int modifiers, boolean isDefault) {
        Set<String> names = new TreeSet<>();
        if (Modifier.isAbstract(modifiers)) {
            names.add("abstract");
        }
        if (isDefault) {
            names.add("default");
        }
        if (Modifier.isFinal(modifiers)) {
            names.add("final");
        }
        if (Modifier.isProtected(modifiers)) {
            names.add("protected");
        }
        if (Modifier.isPublic(modifiers)) {
            names.add("public");
        }
        if (Modifier.isStatic(modifiers)) {
            names.add("static");
        }
        return String.join(",", names);
    }

    private static String names(Class<?>[] types) {
        return types.length == 0 ? "-" : Arrays.stream(types).map(Class::getName).sorted().collect(Collectors.joining(","));
    }

    private static String typeNames(Class<?>[] types) {
        return Arrays.stream(types).map(Class::getTypeName).collect(Collectors.joining(","));
    }

    private static List<String> mainSourcesNaming(Set<String> types) throws IOException {
        List<String> hits = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String text = Files.readString(file);
                for (String type : types) {
                    String simple = type.substring(type.lastIndexOf('.') + 1);
                    if (text.contains(type) || text.matches("(?s).*\\b" + simple + "\\b.*")) {
                        hits.add(file + ": " + type);
                    }
                }
            }
        }
        return hits;
    }

    static List<String> lines(String resource) throws IOException {
        try (InputStream in = JenkinsApiSignatureTest.class.getResourceAsStream(API + resource)) {
            assertThat(in).as(API + resource).isNotNull();
            return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList();
        }
    }
}
