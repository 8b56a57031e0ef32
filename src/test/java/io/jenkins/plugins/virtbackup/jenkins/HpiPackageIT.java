package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code target/virt-backup.hpi} opened as Jenkins opens it: layout, manifest, indexes, bundled engine. */
class HpiPackageIT {
    private static final Path HPI = Path.of(System.getProperty("virtbackup.hpi", "target/virt-backup.hpi"));
    private static final String PLUGIN_JAR = "WEB-INF/lib/virt-backup.jar";
    private static Map<String, byte[]> hpi;
    private static Map<String, byte[]> pluginJar;

    @BeforeAll
    static void open() throws IOException {
        hpi = entries(Files.readAllBytes(HPI));
        pluginJar = entries(hpi.get(PLUGIN_JAR));
    }

    @Test
    void layoutIsTheOneJenkinsExplodes() {
        assertThat(hpi.keySet()).containsExactlyInAnyOrder("META-INF/MANIFEST.MF",
                "META-INF/maven/io.jenkins.plugins/virt-backup/pom.xml",
                "META-INF/maven/io.jenkins.plugins/virt-backup/pom.properties",
                PLUGIN_JAR, BundledCli.PATH_IN_PLUGIN);
        assertThat(pluginJar).containsKeys("index.jelly", "META-INF/annotations/hudson.Extension",
                "META-INF/services/annotations/org.jenkinsci.Symbol",
                "io/jenkins/plugins/virtbackup/jenkins/VirtBackupBuilder/config.jelly",
                "io/jenkins/plugins/virtbackup/jenkins/Messages.properties");
    }

    @Test
    void manifestCarriesThePluginHeaders() throws IOException {
        Attributes main = manifest(hpi.get("META-INF/MANIFEST.MF"));
        String version = new String(hpi.get("META-INF/maven/io.jenkins.plugins/virt-backup/pom.properties"),
                StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("version=")).findFirst().orElseThrow()
                .substring("version=".length());

        assertThat(main.getValue("Short-Name")).isEqualTo("virt-backup");
        assertThat(main.getValue("Long-Name")).isEqualTo("virt-backup");
        assertThat(main.getValue("Group-Id")).isEqualTo("io.jenkins.plugins");
        assertThat(main.getValue("Artifact-Id")).isEqualTo("virt-backup");
        assertThat(main.getValue("Plugin-Version")).isEqualTo(version);
        assertThat(main.getValue("Jenkins-Version")).isEqualTo("2.541.3");
        assertThat(main.getValue("Hudson-Version")).isEqualTo("2.541.3");
        // shortName:version[;resolution:=optional], comma separated, as core's PluginWrapper.Dependency reads it.
        assertThat(main.getValue("Plugin-Dependencies")).isEqualTo("workflow-step-api:710.v3e456cc85233")
                .matches("([\\w.-]+:[\\w.-]+(;resolution:=optional)?)(,[\\w.-]+:[\\w.-]+(;resolution:=optional)?)*");
        assertThat(main.getValue("Plugin-Class")).as("no legacy hudson.Plugin").isNull();
        assertThat(main.getValue("Minimum-Java-Version")).isNull();
        assertThat(manifest(pluginJar.get("META-INF/MANIFEST.MF"))).isEqualTo(main);
    }

    @Test
    void pluginClassPathHoldsOurClassesOnly() {
        List<String> classes = pluginJar.keySet().stream().filter(n -> n.endsWith(".class")).toList();
        assertThat(classes).isNotEmpty().allMatch(n -> n.startsWith("io/jenkins/plugins/virtbackup/jenkins/")
                || n.startsWith("io/jenkins/plugins/virtbackup/engine/"));
        assertThat(classes).contains("io/jenkins/plugins/virtbackup/jenkins/VirtBackupStep.class",
                "io/jenkins/plugins/virtbackup/jenkins/Messages.class",
                "io/jenkins/plugins/virtbackup/engine/store/Json.class");
        // No API declaration, no libvirt-java, no JNA, no picocli, and nothing that would need them.
        for (String name : classes) {
            String constants = new String(pluginJar.get(name), StandardCharsets.ISO_8859_1);
            assertThat(constants).as(name).doesNotContain("org/libvirt", "com/sun/jna", "picocli");
        }
        assertThat(hpi.keySet().stream().filter(n -> n.startsWith("WEB-INF/lib/"))).containsExactly(PLUGIN_JAR);
    }

    @Test
    void indexesListExactlyOurExtensionsAndSymbols() throws Exception {
        List<String> extensions = new ArrayList<>();
        try (ObjectInputStream in = new ObjectInputStream(
                new ByteArrayInputStream(pluginJar.get("META-INF/annotations/hudson.Extension")))) {
            for (Object element; (element = in.readObject()) != null; ) {
                // SezPoz's own record type (net.java.sezpoz.impl.SerAnnotatedElement), read as core reads it.
                assertThat(element.getClass().getName()).isEqualTo("net.java.sezpoz.impl.SerAnnotatedElement");
                Field className = element.getClass().getDeclaredField("className");
                className.setAccessible(true);
                extensions.add((String) className.get(element));
            }
        }
        assertThat(extensions).containsExactlyInAnyOrderElementsOf(
                JenkinsIndexesTest.annotatedGlueClasses(hudson.Extension.class)).hasSize(7);
        assertThat(new String(pluginJar.get("META-INF/services/annotations/org.jenkinsci.Symbol"),
                StandardCharsets.UTF_8).lines()).containsExactlyElementsOf(
                JenkinsIndexesTest.annotatedGlueClasses(org.jenkinsci.Symbol.class).stream().sorted().toList())
                .hasSize(3);
    }

    @Test
    void bundledEngineIsFoundInTheExplodedPluginAndRuns(@TempDir Path jenkinsHome) throws Exception {
        Path pluginDir = jenkinsHome.resolve("plugins/virt-backup");
        for (Map.Entry<String, byte[]> entry : hpi.entrySet()) {   // what core's explode does
            Path file = pluginDir.resolve(entry.getKey());
            Files.createDirectories(file.getParent());
            Files.write(file, entry.getValue());
        }
        Path cli = BundledCli.locate(pluginDir.resolve(PLUGIN_JAR).toFile()).toPath();
        assertThat(cli).isRegularFile();

        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", cli.toString(), "-h").redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isZero();
        assertThat(output).contains("Usage: virt-backup", "--shutdown-timeout", "(default: "
                + BackupOptions.DEFAULT_SHUTDOWN_TIMEOUT + ")", "(default: " + BackupOptions.DEFAULT_MODE + ")");
        try (ZipFile jar = new ZipFile(cli.toFile())) {
            assertThat(jar.getEntry("org/libvirt/Connect.class")).as("self-contained").isNotNull();
            assertThat(jar.stream().map(ZipEntry::getName)).noneMatch(n -> n.startsWith("io/jenkins/plugins/virtbackup/jenkins/"));
        }
    }

    private static Attributes manifest(byte[] bytes) throws IOException {
        return new Manifest(new ByteArrayInputStream(bytes)).getMainAttributes();
    }

    private static Map<String, byte[]> entries(byte[] zip) throws IOException {
        Map<String, byte[]> entries = new TreeMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry entry; (entry = in.getNextEntry()) != null; ) {
                if (!entry.isDirectory()) {
                    entries.put(entry.getName(), in.readAllBytes());
                }
            }
        }
        return entries;
    }
}
