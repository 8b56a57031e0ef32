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
import org.jenkinsci.plugins.workflow.steps.StepDescriptor;
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
    }

    /**
     * The builders' symbols are not the steps' function names: a pipeline that calls
     * {@code virtBackup} must get the step, never the builder through {@code step(...)}.
     */
    @Test
    void buildersHaveSymbolsOfTheirOwn() {
        List<String> functions = List.of(new VirtBackupStep.DescriptorImpl().getFunctionName(),
                new VirtBackupRestoreStep.DescriptorImpl().getFunctionName(),
                new VirtBackupRestoreTestStep.DescriptorImpl().getFunctionName());
        assertThat(functions).containsExactly("virtBackup", "virtBackupRestore", "virtBackupRestoreTest");
        assertThat(VirtBackupBuilder.DescriptorImpl.class.getAnnotation(Symbol.class).value())
                .containsExactly("virtBackupBuilder").doesNotContainAnyElementsOf(functions);
        assertThat(VirtBackupRestoreBuilder.DescriptorImpl.class.getAnnotation(Symbol.class).value())
                .containsExactly("virtBackupRestoreBuilder").doesNotContainAnyElementsOf(functions);
        assertThat(VirtBackupRestoreTestBuilder.DescriptorImpl.class.getAnnotation(Symbol.class).value())
                .containsExactly("virtBackupRestoreTestBuilder").doesNotContainAnyElementsOf(functions);
    }

    /**
     * Every name a pipeline can call something of ours by, the symbols of the classes that have one
     * and the function names of every step, found in the compiled classes: each names one thing
     * only. Two alike would make the call mean the step or the builder depending on the Jenkins
     * version's lookup order.
     */
    @Test
    void noTwoSymbolsOrFunctionNamesAreAlike() throws Exception {
        List<String> names = new ArrayList<>();
        for (String className : annotatedGlueClasses(Symbol.class)) {
            names.addAll(List.of(Class.forName(className).getAnnotation(Symbol.class).value()));
        }
        List<String> steps = new ArrayList<>();
        for (String className : annotatedGlueClasses(Extension.class)) {
            Object descriptor = Class.forName(className).getConstructor().newInstance();
            if (descriptor instanceof StepDescriptor step) {
                steps.add(step.getFunctionName());
            }
        }
        names.addAll(steps);

        assertThat(steps).as("every step found").hasSize(3);
        assertThat(names).as("symbols and step names").hasSize(6).doesNotHaveDuplicates();
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
