package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;

import hudson.Extension;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import net.java.sezpoz.Index;
import net.java.sezpoz.IndexItem;
import org.jenkinsci.Symbol;
import org.junit.jupiter.api.Test;

/**
 * The two indexes Jenkins finds our classes by: SezPoz's for {@code @Extension} (read here with
 * SezPoz itself, as core does) and annotation-indexer's for {@code @Symbol} (a resource of ours).
 */
class JenkinsIndexesTest {
    @Test
    void sezpozFindsExactlyOurExtensionsAndCanCreateThem() throws Exception {
        List<String> indexed = new ArrayList<>();
        for (IndexItem<Extension, Object> item : Index.load(Extension.class, Object.class)) {
            indexed.add(item.className());
            assertThat(item.instance()).isInstanceOf(Class.forName(item.className()));
        }
        assertThat(indexed).containsExactlyInAnyOrderElementsOf(annotatedGlueClasses(Extension.class))
                .containsExactlyInAnyOrder(VirtBackupBuilder.DescriptorImpl.class.getName(),
                        VirtBackupStep.DescriptorImpl.class.getName(),
                        VirtBackupRestoreBuilder.DescriptorImpl.class.getName(),
                        VirtBackupRestoreStep.DescriptorImpl.class.getName(),
                        VirtBackupRestoreTestBuilder.DescriptorImpl.class.getName(),
                        VirtBackupRestoreTestStep.DescriptorImpl.class.getName(),
                        BackupRetention.DescriptorImpl.class.getName());
    }

    @Test
    void symbolIndexListsExactlyTheClassesWithASymbol() throws Exception {
        List<String> index;
        try (InputStream in = getClass().getResourceAsStream("/META-INF/services/annotations/org.jenkinsci.Symbol")) {
            index = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
        assertThat(index).isEqualTo(annotatedGlueClasses(Symbol.class).stream().sorted().toList());
        assertThat(VirtBackupBuilder.DescriptorImpl.class.getAnnotation(Symbol.class).value())
                .containsExactly(new VirtBackupStep.DescriptorImpl().getFunctionName());
    }

    /**
     * The restore builders' symbols are not the steps' function names: a pipeline that calls
     * {@code virtBackupRestore} must get the step, never the builder through {@code step(...)}.
     */
    @Test
    void restoreBuildersHaveSymbolsOfTheirOwn() {
        List<String> functions = List.of(new VirtBackupStep.DescriptorImpl().getFunctionName(),
                new VirtBackupRestoreStep.DescriptorImpl().getFunctionName(),
                new VirtBackupRestoreTestStep.DescriptorImpl().getFunctionName());
        assertThat(functions).containsExactly("virtBackup", "virtBackupRestore", "virtBackupRestoreTest");
        assertThat(VirtBackupRestoreBuilder.DescriptorImpl.class.getAnnotation(Symbol.class).value())
                .containsExactly("virtBackupRestoreBuilder").doesNotContainAnyElementsOf(functions);
        assertThat(VirtBackupRestoreTestBuilder.DescriptorImpl.class.getAnnotation(Symbol.class).value())
                .containsExactly("virtBackupRestoreTestBuilder").doesNotContainAnyElementsOf(functions);
    }

    /** Classes of the compiled glue package carrying {@code annotation}. */
    static List<String> annotatedGlueClasses(Class<? extends java.lang.annotation.Annotation> annotation)
            throws IOException, ClassNotFoundException {
        Path root = Path.of("target/classes");
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root.resolve("io/jenkins/plugins/virtbackup/jenkins"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name = root.relativize(file).toString().replace('/', '.').replaceAll("\\.class$", "");
                if (Class.forName(name).isAnnotationPresent(annotation)) {
                    found.add(name);
                }
            }
        }
        return found;
    }
}
