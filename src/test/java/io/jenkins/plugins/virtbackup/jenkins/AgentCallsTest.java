package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What runs on the agent, run here on real files; and everything that crosses to it, serialized. */
class AgentCallsTest {
    @TempDir
    Path dir;

    @Test
    void cachedJarIsCheckedByContentAndCommittedByRename() throws Exception {
        Path jar = Files.write(dir.resolve("source.jar"), new byte[] {1, 2, 3});
        String sha = BundledCli.sha256(jar.toFile());
        String name = BundledCli.cachedFileName(sha);
        Path cache = Files.createDirectories(dir.resolve("cache"));

        assertThat(new AgentCalls.CheckCachedJar(name, sha).invoke(cache.toFile(), null)).isFalse();
        Files.copy(jar, cache.resolve("tmp1.part"));
        new AgentCalls.CommitCachedJar("tmp1.part", name, sha).invoke(cache.toFile(), null);
        assertThat(cache.resolve("tmp1.part")).doesNotExist();
        assertThat(cache.resolve(name)).hasBinaryContent(new byte[] {1, 2, 3});
        assertThat(new AgentCalls.CheckCachedJar(name, sha).invoke(cache.toFile(), null)).isTrue();

        Files.write(cache.resolve(name), new byte[] {1, 2});   // a copy cut short
        assertThat(new AgentCalls.CheckCachedJar(name, sha).invoke(cache.toFile(), null)).isFalse();
        assertThat(cache.resolve(name)).doesNotExist();

        Files.write(cache.resolve("tmp2.part"), new byte[] {9});
        assertThatThrownBy(() -> new AgentCalls.CommitCachedJar("tmp2.part", name, sha).invoke(cache.toFile(), null))
                .isInstanceOf(IOException.class).hasMessageContaining("expected " + sha);
        assertThat(cache).isEmptyDirectory();
    }

    @Test
    void cachedNameChangesWithContent() throws IOException {
        Path a = Files.write(dir.resolve("a"), new byte[] {1});
        Path b = Files.write(dir.resolve("b"), new byte[] {2});
        assertThat(BundledCli.sha256(a.toFile())).hasSize(64).matches("[0-9a-f]+");
        assertThat(BundledCli.cachedFileName(BundledCli.sha256(a.toFile())))
                .isNotEqualTo(BundledCli.cachedFileName(BundledCli.sha256(b.toFile())))
                .matches("virt-backup-cli-[0-9a-f]{16}\\.jar");
    }

    @Test
    void javaCommandIsThisNodesJava() {
        assertThat(Path.of(new AgentCalls.JavaCommand().call())).isExecutable()
                .startsWith(Path.of(System.getProperty("java.home")));
    }

    @Test
    void whatCrossesToTheAgentSurvivesSerializationAndCarriesOnlyPlainValues() throws Exception {
        BackupOptions options = new BackupOptions("web", "qemu:///system", List.of("vda"), "live", "inc", "/b", 9,
                true, true, true).withQuiesce(true).withSnapshotSize("2G").withNodePaths("/o", "/state", "/e.log");
        RestoreOptions restore = RestoreOptions.restore("/b/web/20261203T021500Z", "qemu:///system", "web-2", "/r",
                true, true).withNodePaths("/state", null);
        RestoreOptions test = RestoreOptions.test("/b/web/20261203T021500Z", null, "/s", 2, "login:", false)
                .withProof("console").withNodePaths(null, "/e.log");
        List<Serializable> crossing = List.of(options, restore, test, new AgentCalls.JavaCommand(),
                new AgentCalls.CheckCachedJar("n.jar", "abc"), new AgentCalls.CommitCachedJar("t", "n.jar", "abc"),
                new VirtBackupStep.Execution(null, options), new RestoreStepExecution(null, restore),
                new RestoreStepExecution(null, test));
        for (Serializable object : crossing) {
            Object copy = roundTrip(object);
            assertThat(copy).usingRecursiveComparison().isEqualTo(object);
            for (Field field : object.getClass().getDeclaredFields()) {
                // Transient fields (the pipeline execution's running thread) are never written.
                if (!Modifier.isStatic(field.getModifiers()) && !Modifier.isTransient(field.getModifiers())) {
                    assertThat(field.getType()).as("%s.%s", object.getClass().getSimpleName(), field.getName())
                            .isIn(String.class, int.class, boolean.class, List.class, BackupOptions.class,
                                    RestoreOptions.class);
                }
            }
        }
        assertThat(((VirtBackupStep.Execution) roundTrip(new VirtBackupStep.Execution(null, options))).options()
                .cliArguments()).isEqualTo(options.cliArguments());
        assertThat(((RestoreStepExecution) roundTrip(new RestoreStepExecution(null, test))).options().cliArguments())
                .isEqualTo(test.cliArguments()).contains("--test", "--proof", "--error-log");
    }

    static Object roundTrip(Serializable object) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(object);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return in.readObject();
        }
    }
}
