package io.jenkins.plugins.virtbackup.testing;

import io.jenkins.plugins.virtbackup.engine.RunResult;
import io.jenkins.plugins.virtbackup.libvirt.NativeSyslog;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The packaged command line ({@code target/virt-backup-cli.jar}) as a real process, for the *IT tests. */
public final class CliProcess {
    public static final Path JAR = Path.of(System.getProperty("virtbackup.cli.jar", "target/virt-backup-cli.jar"));

    /** How a finished run ended: its exit code and its output, stdout and stderr merged. */
    public record Result(int code, List<String> output) {
        public String text() {
            return String.join("\n", output);
        }
    }

    private CliProcess() {
    }

    /**
     * Starts {@code java -jar virt-backup-cli.jar ARGS} with this JVM's Java. The environment is this
     * process's, without {@code LIBVIRT_DEFAULT_URI}, plus {@code environment}.
     */
    public static Process start(List<String> args, Map<String, String> environment) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", JAR.toString()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("LIBVIRT_DEFAULT_URI");
        builder.environment().putAll(environment);
        return builder.start();
    }

    public static Result run(List<String> args, Map<String, String> environment) throws Exception {
        return finish(start(args, environment));
    }

    /**
     * Backs up {@code domain} (default mode) into {@code root} and returns the new backup's directory,
     * as the run's result file names it. Its state and syslog socket go into {@code work}, as the
     * *JenkinsIT tests' controllers have them.
     */
    public static Path backUp(String uri, String domain, Path root, Path work) throws Exception {
        Path resultFile = Files.createTempFile(Files.createDirectories(work), "backup-result", ".json");
        Result run = run(List.of("--connect", uri, "--dir", root.toString(), "--result-file", resultFile.toString(),
                "--", domain), Map.of("VIRT_BACKUP_STATE_DIR", work.resolve("state").toString(),
                NativeSyslog.SOCKET_ENV, work.resolve("no-syslog.sock").toString()));
        if (run.code() != 0) {
            throw new AssertionError("backup of " + domain + " failed:\n" + run.text());
        }
        return Path.of(RunResult.parse(Files.readString(resultFile)).backup());
    }

    /** Reads the rest of the output and waits for the exit (five minutes at most). */
    public static Result finish(Process process) throws Exception {
        List<String> output;
        try (BufferedReader out = reader(process)) {
            output = out.lines().toList();
        }
        if (!process.waitFor(300, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("virt-backup did not end within 5 minutes:\n" + String.join("\n", output));
        }
        return new Result(process.exitValue(), output);
    }

    /** Reads the output until a line contains {@code text}; returns the lines read, that one last. */
    public static List<String> readUntil(BufferedReader out, String text) throws IOException {
        List<String> lines = new ArrayList<>();
        String line;
        while ((line = out.readLine()) != null) {
            lines.add(line);
            if (line.contains(text)) {
                return lines;
            }
        }
        throw new AssertionError("no line containing '" + text + "' in:\n" + String.join("\n", lines));
    }

    public static BufferedReader reader(Process process) {
        return new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }
}
