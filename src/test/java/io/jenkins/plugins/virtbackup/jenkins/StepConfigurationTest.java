package io.jenkins.plugins.virtbackup.jenkins;

import static org.assertj.core.api.Assertions.assertThat;

import java.beans.Introspector;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.kohsuke.stapler.DataBoundConstructor;
import org.kohsuke.stapler.DataBoundSetter;

/**
 * The builder and the step as Stapler and the snippet generator see them: normalized setters,
 * defaults that equal a fresh instance's (so the generated snippet leaves them out), and the same
 * properties and command line for both.
 */
class StepConfigurationTest {
    @Test
    void bothHaveTheSameBoundProperties() {
        assertThat(JenkinsFormsTest.boundProperties(VirtBackupStep.class))
                .isEqualTo(JenkinsFormsTest.boundProperties(VirtBackupBuilder.class))
                .containsOnlyKeys("domain", "uri", "disks", "mode", "level", "backupDir", "shutdownTimeout",
                        "forceOff", "verify", "compress", "verbose", "domains", "allDomains", "excludes", "parallel",
                        "unstableOnFailure", "retention", "quiesce", "snapshotSize", "overlayDir", "stateDir",
                        "errorLog");
    }

    @Test
    void formDefaultsLeaveEveryPropertyAsAFreshInstanceHasIt() {
        VirtBackupBuilder fresh = new VirtBackupBuilder("web");
        VirtBackupBuilder submitted = new VirtBackupBuilder(" web ");
        // What an untouched form submits.
        submitted.setUri("");
        submitted.setDisks(List.of(""));
        submitted.setMode("suspend");
        submitted.setLevel("full");
        submitted.setBackupDir(" ");
        submitted.setShutdownTimeout(300);
        submitted.setForceOff(false);
        submitted.setVerify(false);
        submitted.setCompress(false);
        submitted.setVerbose(false);
        submitted.setDomains(List.of(" "));
        submitted.setAllDomains(false);
        submitted.setExcludes(List.of(""));
        submitted.setParallel(1);
        submitted.setUnstableOnFailure(false);
        submitted.setQuiesce(false);
        submitted.setSnapshotSize(" ");
        submitted.setOverlayDir("");
        submitted.setStateDir(" ");
        submitted.setErrorLog("");

        assertThat(submitted).usingRecursiveComparison().isEqualTo(fresh);
        assertThat(fresh.getDomains()).isEmpty();
        assertThat(fresh.getDomainsText()).isEmpty();
        assertThat(fresh.getExcludesText()).isEmpty();
        assertThat(fresh.getParallel()).isEqualTo(1).isEqualTo(new VirtBackupStep("web").getParallel());
        assertThat(fresh.getUri()).isNull();
        assertThat(fresh.getBackupDir()).isNull();
        assertThat(fresh.getDisks()).isEmpty();
        assertThat(fresh.getDisksText()).isEmpty();
        assertThat(fresh.isVerify()).as("read-back is opt-in").isFalse();
        assertThat(fresh.getLevel()).isEqualTo("full").isEqualTo(new VirtBackupStep("web").getLevel());
        assertThat(new VirtBackupStep("web").isVerify()).isFalse();
        assertThat(fresh.isCompress()).as("compression is opt-in").isFalse();
        assertThat(new VirtBackupStep("web").isCompress()).isFalse();
        assertThat(fresh.isQuiesce()).as("quiesce is opt-in, as in the engine").isFalse();
        assertThat(fresh.getSnapshotSize()).as("the engine's default size").isNull();
        assertThat(fresh.getOverlayDir()).isNull();
        assertThat(fresh.getStateDir()).isNull();
        assertThat(fresh.getErrorLog()).isNull();
        assertThat(fresh.options().cliArguments())
                .isEqualTo(new BackupOptions("web", null, null, null, null, null, 300, false, false, false)
                        .cliArguments());

        VirtBackupStep step = new VirtBackupStep("web");
        step.setMode("");
        step.setLevel(" ");
        step.setDisks(null);
        step.setDomains(null);
        step.setExcludes(List.of(" "));
        step.setStateDir("");
        step.setErrorLog(" ");
        step.setSnapshotSize("");
        assertThat(step).usingRecursiveComparison().isEqualTo(new VirtBackupStep("web"));
    }

    @Test
    void builderAndStepBuildTheSameAllDomainsCommandLine() {
        VirtBackupBuilder builder = new VirtBackupBuilder("");
        VirtBackupStep step = new VirtBackupStep(null);
        builder.setAllDomains(true);
        step.setAllDomains(true);
        builder.setExcludes(List.of("test-*, scratch?"));     // the freestyle text box
        step.setExcludes(List.of("test-*", "scratch?"));      // a pipeline list
        builder.setParallel(2);
        step.setParallel(2);
        builder.setUnstableOnFailure(true);
        step.setUnstableOnFailure(true);

        assertThat(builder.getExcludesText()).isEqualTo("test-* scratch?").isEqualTo(step.getExcludesText());
        assertThat(builder.options().problems()).isEmpty();
        assertThat(builder.options().unstableOnFailure()).isTrue();
        assertThat(builder.options().cliArguments()).isEqualTo(step.options().cliArguments())
                .endsWith("--all", "--exclude", "test-*", "--exclude", "scratch?", "--parallel", "2");

        VirtBackupBuilder list = new VirtBackupBuilder(null);
        list.setDomains(List.of("web db"));
        assertThat(list.getDomainsText()).isEqualTo("web db");
        assertThat(list.options().domains()).containsExactly("web", "db");
    }

    @Test
    void builderAndStepBuildTheSameCommandLine() {
        VirtBackupBuilder builder = new VirtBackupBuilder("db");
        VirtBackupStep step = new VirtBackupStep("db");
        builder.setUri("qemu:///system");
        step.setUri("qemu:///system");
        builder.setDisks(List.of("vda vdb"));              // the freestyle text box
        step.setDisks(List.of("vda", "vdb"));              // a pipeline list
        builder.setMode("live");
        step.setMode("live");
        builder.setLevel(" diff ");
        step.setLevel("diff");
        builder.setBackupDir("/srv/backup");
        step.setBackupDir("/srv/backup");
        builder.setShutdownTimeout(60);
        step.setShutdownTimeout(60);
        builder.setForceOff(true);
        step.setForceOff(true);
        builder.setVerify(true);
        step.setVerify(true);
        builder.setCompress(true);
        step.setCompress(true);
        builder.setVerbose(true);
        step.setVerbose(true);
        builder.setQuiesce(true);
        step.setQuiesce(true);
        builder.setOverlayDir("/srv/overlays");
        step.setOverlayDir("/srv/overlays");
        builder.setStateDir(" /var/lib/vb ");
        step.setStateDir("/var/lib/vb");
        builder.setErrorLog("/var/log/vb.log");
        step.setErrorLog("/var/log/vb.log");

        assertThat(builder.getDisks()).containsExactly("vda", "vdb");
        assertThat(builder.getDisksText()).isEqualTo("vda vdb");
        assertThat(step.getDisksText()).isEqualTo("vda vdb");
        assertThat(builder.options().cliArguments()).isEqualTo(step.options().cliArguments())
                .containsExactly("--connect", "qemu:///system", "--mode", "live", "--level", "diff",
                        "--dir", "/srv/backup", "--shutdown-timeout", "60", "--force-off", "--quiesce", "--verify",
                        "--compress", "--overlay-dir", "/srv/overlays", "--state-dir", "/var/lib/vb",
                        "--error-log", "/var/log/vb.log", "--verbose",
                        "--", "db", "vda", "vdb");

        builder.setSnapshotSize(" 2G ");
        step.setSnapshotSize("2G");
        assertThat(builder.options().cliArguments()).as("live mode takes no snapshots: left out")
                .isEqualTo(step.options().cliArguments()).doesNotContain("--snapshot-size");
        builder.setMode("snapshot-dm");
        step.setMode("snapshot-dm");
        builder.setQuiesce(false);
        step.setQuiesce(false);
        builder.setOverlayDir(null);
        step.setOverlayDir(null);
        assertThat(builder.options().problems()).isEmpty();
        assertThat(builder.options().cliArguments()).isEqualTo(step.options().cliArguments())
                .containsExactly("--connect", "qemu:///system", "--mode", "snapshot-dm", "--level", "diff",
                        "--dir", "/srv/backup", "--shutdown-timeout", "60", "--force-off", "--verify",
                        "--compress", "--snapshot-size", "2G", "--state-dir", "/var/lib/vb",
                        "--error-log", "/var/log/vb.log", "--verbose",
                        "--", "db", "vda", "vdb");
    }

    /**
     * The configuration round trip of every form, as the snippet generator and Pipeline's
     * describable model make it: every bound property set to a value a fresh instance does not
     * have, read back through its getter and bound again (the constructor's parameters by name, then
     * each setter) gives an equal configuration, nested retention included. A property without a
     * matching getter, or a setter that changes what it is given back, fails here. (Saved through
     * Jenkins' XStream into {@code config.xml} and back: {@code FreestyleJenkinsIT}, {@code FormsJenkinsIT}.)
     */
    @ParameterizedTest
    @MethodSource("forms")
    void everyFieldSurvivesARoundTripThroughItsGettersAndSetters(Class<?> form) throws Exception {
        Object configured = everyFieldChanged(form);
        Object fresh = bound(form, property -> null);
        for (String property : JenkinsFormsTest.boundProperties(form).keySet()) {
            if (!isConstructorParameter(form, property)) {
                assertThat(read(configured, property)).as("%s.%s set", form.getSimpleName(), property)
                        .isNotEqualTo(read(fresh, property));
            }
        }

        Object again = bound(form, property -> read(configured, property));

        assertThat(again).usingRecursiveComparison().isEqualTo(configured);
    }

    static List<Class<?>> forms() {
        return JenkinsFormsTest.DESCRIBABLES;
    }

    /** An instance of {@code form} whose every bound property differs from a fresh instance's. */
    private static Object everyFieldChanged(Class<?> form) throws Exception {
        Object fresh = bound(form, property -> null);
        return bound(form, property -> {
            Type type = JenkinsFormsTest.boundProperties(form).get(property);
            Object current = read(fresh, property);
            if (type == boolean.class) {
                return !(Boolean) current;
            }
            if (type == int.class) {
                return (Integer) current + 7;
            }
            if (type == String.class) {
                return "/changed/" + property;
            }
            if (type instanceof ParameterizedType list && list.getRawType() == List.class) {
                return List.of(property + "-1", property + "-2");
            }
            return everyFieldChanged((Class<?>) type);   // a nested describable: the retention
        });
    }

    /** Binds {@code form} as Stapler does: the constructor's parameters by name, then every setter. */
    private static Object bound(Class<?> form, ValueOf valueOf) throws Exception {
        Constructor<?> constructor = Arrays.stream(form.getConstructors())
                .filter(c -> c.isAnnotationPresent(DataBoundConstructor.class)).findFirst().orElseThrow();
        List<Object> arguments = new ArrayList<>();
        for (Parameter parameter : constructor.getParameters()) {
            arguments.add(valueOf.of(parameter.getName()));
        }
        Object instance = constructor.newInstance(arguments.toArray());
        for (Method setter : form.getMethods()) {
            if (setter.isAnnotationPresent(DataBoundSetter.class)) {
                Object value = valueOf.of(Introspector.decapitalize(setter.getName().substring(3)));
                if (value != null) {
                    setter.invoke(instance, value);
                }
            }
        }
        return instance;
    }

    @FunctionalInterface
    private interface ValueOf {
        Object of(String property) throws Exception;
    }

    private static Object read(Object instance, String property) throws Exception {
        return JenkinsFormsTest.getter(instance.getClass(), property).invoke(instance);
    }

    private static boolean isConstructorParameter(Class<?> form, String property) {
        return Arrays.stream(form.getConstructors()).filter(c -> c.isAnnotationPresent(DataBoundConstructor.class))
                .flatMap(c -> Arrays.stream(c.getParameters())).anyMatch(p -> p.getName().equals(property));
    }

    @Test
    void descriptorsNameTheStep() {
        VirtBackupStep.DescriptorImpl descriptor = new VirtBackupStep.DescriptorImpl();
        assertThat(descriptor.getFunctionName()).isEqualTo("virtBackup");
        assertThat(descriptor.getRequiredContext()).hasSize(5);
        assertThat(descriptor.getDisplayName()).isEqualTo(Messages.VirtBackupStep_displayName());
        assertThat(new VirtBackupBuilder.DescriptorImpl().isApplicable(Object.class)).isTrue();
    }

    @Test
    void restoreBuildersAndStepsHaveTheSameBoundProperties() {
        assertThat(JenkinsFormsTest.boundProperties(VirtBackupRestoreStep.class))
                .isEqualTo(JenkinsFormsTest.boundProperties(VirtBackupRestoreBuilder.class))
                .containsOnlyKeys("backup", "uri", "name", "diskDir", "start", "verbose", "stateDir", "errorLog");
        assertThat(JenkinsFormsTest.boundProperties(VirtBackupRestoreTestStep.class))
                .isEqualTo(JenkinsFormsTest.boundProperties(VirtBackupRestoreTestBuilder.class))
                .containsOnlyKeys("backup", "uri", "diskDir", "timeout", "consolePattern", "verbose", "proof",
                        "stateDir", "errorLog");
    }

    @Test
    void restoreFormDefaultsLeaveEveryPropertyAsAFreshInstanceHasIt() {
        String backup = "/srv/backup/web/20261203T021500Z";
        VirtBackupRestoreBuilder restore = new VirtBackupRestoreBuilder(" " + backup + " ");
        restore.setUri("");
        restore.setName(" ");
        restore.setDiskDir("");
        restore.setStart(false);
        restore.setVerbose(false);
        restore.setStateDir(" ");
        restore.setErrorLog("");
        assertThat(restore).usingRecursiveComparison().isEqualTo(new VirtBackupRestoreBuilder(backup));
        assertThat(restore.getName()).isNull();
        assertThat(restore.isStart()).as("a restore defines; starting is asked for").isFalse();

        VirtBackupRestoreTestBuilder test = new VirtBackupRestoreTestBuilder(backup);
        test.setUri(" ");
        test.setDiskDir("");
        test.setTimeout(300);
        test.setConsolePattern("");
        test.setVerbose(false);
        test.setProof("");
        test.setStateDir("");
        test.setErrorLog(" ");
        assertThat(test).usingRecursiveComparison().isEqualTo(new VirtBackupRestoreTestBuilder(backup));
        assertThat(test.getConsolePattern()).isNull();
        assertThat(test.getProof()).as("the strongest the clone allows").isNull();
        assertThat(test.getTimeout()).isEqualTo(RestoreOptions.DEFAULT_TIMEOUT)
                .isEqualTo(new VirtBackupRestoreTestStep(backup).getTimeout());

        VirtBackupRestoreTestStep step = new VirtBackupRestoreTestStep(backup);
        step.setConsolePattern("");
        step.setDiskDir(" ");
        assertThat(step).usingRecursiveComparison().isEqualTo(new VirtBackupRestoreTestStep(backup));
    }

    @Test
    void restoreBuilderAndStepBuildTheSameCommandLine() {
        String backup = "/srv/backup/web/20261203T021500Z";
        VirtBackupRestoreBuilder builder = new VirtBackupRestoreBuilder(backup);
        VirtBackupRestoreStep step = new VirtBackupRestoreStep(backup);
        builder.setUri("qemu:///system");
        step.setUri("qemu:///system");
        builder.setName("web-copy");
        step.setName(" web-copy ");
        builder.setDiskDir("/srv/restore");
        step.setDiskDir("/srv/restore");
        builder.setStart(true);
        step.setStart(true);
        builder.setVerbose(true);
        step.setVerbose(true);
        builder.setStateDir("/var/lib/vb");
        step.setStateDir("/var/lib/vb");
        builder.setErrorLog("/var/log/vb.log");
        step.setErrorLog(" /var/log/vb.log");

        assertThat(builder.options().cliArguments()).isEqualTo(step.options().cliArguments())
                .containsExactly("restore", "--connect", "qemu:///system", "--name", "web-copy",
                        "--disk-dir", "/srv/restore", "--start", "--state-dir", "/var/lib/vb",
                        "--error-log", "/var/log/vb.log", "--verbose", "--", backup);
    }

    @Test
    void restoreTestBuilderAndStepBuildTheSameCommandLine() {
        String backup = "/srv/backup/web/20261203T021500Z";
        VirtBackupRestoreTestBuilder builder = new VirtBackupRestoreTestBuilder(backup);
        VirtBackupRestoreTestStep step = new VirtBackupRestoreTestStep(backup);
        builder.setUri("qemu:///system");
        step.setUri("qemu:///system");
        builder.setDiskDir("/scratch");
        step.setDiskDir("/scratch");
        builder.setTimeout(600);
        step.setTimeout(600);
        builder.setConsolePattern("login: $");
        step.setConsolePattern("login: $");
        builder.setVerbose(true);
        step.setVerbose(true);
        builder.setProof("agent");
        step.setProof(" agent ");
        builder.setStateDir("/var/lib/vb");
        step.setStateDir("/var/lib/vb");
        builder.setErrorLog("/var/log/vb.log");
        step.setErrorLog("/var/log/vb.log");

        assertThat(builder.options().cliArguments()).isEqualTo(step.options().cliArguments())
                .containsExactly("restore", "--test", "--connect", "qemu:///system", "--disk-dir", "/scratch",
                        "--timeout", "600", "--console-pattern", "login: $", "--proof", "agent",
                        "--state-dir", "/var/lib/vb", "--error-log", "/var/log/vb.log", "--verbose", "--", backup);
    }

    @Test
    void restoreDescriptorsNameTheSteps() {
        VirtBackupRestoreStep.DescriptorImpl restore = new VirtBackupRestoreStep.DescriptorImpl();
        VirtBackupRestoreTestStep.DescriptorImpl test = new VirtBackupRestoreTestStep.DescriptorImpl();
        assertThat(restore.getFunctionName()).isEqualTo("virtBackupRestore");
        assertThat(test.getFunctionName()).isEqualTo("virtBackupRestoreTest");
        assertThat(restore.getRequiredContext()).hasSize(4).isEqualTo(test.getRequiredContext());
        assertThat(restore.getDisplayName()).isEqualTo(Messages.VirtBackupRestoreStep_displayName());
        assertThat(test.getDisplayName()).isEqualTo(Messages.VirtBackupRestoreTestStep_displayName());
        assertThat(new VirtBackupRestoreBuilder.DescriptorImpl().getDisplayName())
                .isEqualTo(Messages.VirtBackupRestoreBuilder_displayName());
        assertThat(new VirtBackupRestoreTestBuilder.DescriptorImpl().isApplicable(Object.class)).isTrue();
    }
}
