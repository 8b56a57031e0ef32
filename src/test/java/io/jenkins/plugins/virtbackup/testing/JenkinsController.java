package io.jenkins.plugins.virtbackup.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jenkins.plugins.virtbackup.engine.store.Json;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real Jenkins 2.541.3 controller for the *JenkinsIT tests, from the runtime beside the project
 * ({@code ../shared/jenkins-runtime}, see its README): a fresh JENKINS_HOME with every plugin of the
 * runtime and {@code target/virt-backup.hpi}, listening on 127.0.0.1 at a free port, driven through
 * its REST API. {@link #close()} stops its agents and the controller, also when a test failed; a
 * shutdown hook does the same if the test JVM ends first. Builds inherit the environment given here
 * (the engine's state directory above all), as the README says.
 */
public final class JenkinsController implements AutoCloseable {
    /** Set by the pom to {@code ${project.basedir}/../shared/jenkins-runtime}. */
    private static final Path RUNTIME = Path.of(System.getProperty("virtbackup.jenkins.runtime",
            "../shared/jenkins-runtime")).toAbsolutePath().normalize();
    private static final Path HPI = Path.of(System.getProperty("virtbackup.hpi", "target/virt-backup.hpi"));
    /** Where each controller's log is kept after it stopped, for a look after a failure. */
    private static final Path LOGS = Path.of(System.getProperty("virtbackup.it.output", "target/jenkins-it"));
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(5);
    private static boolean skipReported;

    /** A finished build: its result ({@code SUCCESS}, {@code FAILURE}, {@code ABORTED}...) and console. */
    public record Build(String job, int number, String result, String console) {
    }

    private final String name;
    private final Path work;
    private final Path home;
    private final Map<String, String> environment;
    private final String url;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final List<String> agents = new ArrayList<>();
    private final Thread stopOnExit = new Thread(this::stopQuietly, "stop-jenkins");
    private boolean stopped;

    private JenkinsController(String name, Path work, Map<String, String> environment, int port) {
        this.name = name;
        this.work = work;
        this.home = work.resolve("jenkins-home");
        this.environment = environment;
        this.url = "http://127.0.0.1:" + port;
    }

    /**
     * The runtime's folder. Without it (a clone outside this environment) the calling test is skipped
     * with one line saying why; under CI it fails instead, since CI always has it.
     */
    public static Path runtime() {
        if (Files.isExecutable(RUNTIME.resolve("run-jenkins"))) {
            return RUNTIME;
        }
        String why = "no Jenkins runtime at " + RUNTIME + " (../shared/jenkins-runtime beside the project)";
        if ("true".equals(System.getenv("CI"))) {
            fail("Jenkins integration tests cannot run under CI: " + why);
        }
        synchronized (JenkinsController.class) {
            if (!skipReported) {
                System.out.println("Jenkins integration tests skipped: " + why);
                skipReported = true;
            }
        }
        assumeTrue(false, why);
        return RUNTIME;
    }

    /**
     * Installs the plugins into {@code work/jenkins-home} and starts the controller; returns once
     * it answers. {@code environment} is added to this process's environment (without
     * {@code LIBVIRT_DEFAULT_URI}) for the controller and the agents it starts, over the engine's
     * defaults for tests: its state directory in {@code work/state}, and syslog to a socket nobody
     * listens on (the host's syslog stays clean).
     *
     * @param name what the kept log is called: {@code target/jenkins-it/NAME-jenkins.log}
     */
    public static JenkinsController start(String name, Path work, Map<String, String> environment)
            throws IOException, InterruptedException {
        Path runtime = runtime();
        Map<String, String> engine = new LinkedHashMap<>(Map.of(
                "VIRT_BACKUP_STATE_DIR", work.resolve("state").toString(),
                "VIRT_BACKUP_SYSLOG_SOCKET", work.resolve("no-syslog.sock").toString()));
        engine.putAll(environment);
        JenkinsController jenkins = new JenkinsController(name, work, engine, freePort());
        List<String> install = new ArrayList<>(List.of(runtime.resolve("run-jenkins").toString(), "install",
                jenkins.home.toString()));
        try (Stream<Path> plugins = Files.list(runtime.resolve("plugins"))) {
            plugins.filter(p -> p.toString().endsWith(".jpi")).sorted().forEach(p -> install.add(p.toString()));
        }
        install.add(HPI.toAbsolutePath().toString());
        jenkins.script(install);
        Runtime.getRuntime().addShutdownHook(jenkins.stopOnExit);
        try {
            jenkins.script(List.of(runtime.resolve("run-jenkins").toString(), "start", jenkins.home.toString(),
                    jenkins.url.substring(jenkins.url.lastIndexOf(':') + 1)));
        } catch (IOException | RuntimeException e) {
            jenkins.close();
            throw e;
        }
        return jenkins;
    }

    public String url() {
        return url;
    }

    public Path home() {
        return home;
    }

    // ------------------------------------------------------------------ jobs and builds

    /** {@code POST /createItem?name=NAME} with a {@code config.xml}. */
    public void createJob(String job, String configXml) throws IOException, InterruptedException {
        send(HttpRequest.newBuilder(uri("/createItem?name=" + encode(job)))
                .header("Content-Type", "application/xml")
                .POST(HttpRequest.BodyPublishers.ofString(configXml)), 200);
    }

    /** The job's {@code config.xml} as Jenkins keeps it on disk. */
    public String jobConfig(String job) throws IOException, InterruptedException {
        return get("/job/" + encode(job) + "/config.xml");
    }

    /** Queues a build and returns its number once it has started. */
    public int build(String job) throws IOException, InterruptedException, TimeoutException {
        return build(job, Map.of());
    }

    /** Queues a build with parameters ({@code buildWithParameters}) and returns its number once it has started. */
    public int build(String job, Map<String, String> parameters)
            throws IOException, InterruptedException, TimeoutException {
        // No quiet period: the build is queued to start at once.
        String path = "/job/" + encode(job) + (parameters.isEmpty() ? "/build" : "/buildWithParameters")
                + "?delay=0sec";
        String form = parameters.entrySet().stream().map(e -> encode(e.getKey()) + "=" + encode(e.getValue()))
                .collect(Collectors.joining("&"));
        HttpResponse<String> queued = send(HttpRequest.newBuilder(uri(path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)), 201);
        String item = URI.create(queued.headers().firstValue("Location").orElseThrow()).getPath();
        Object number = waitFor("build of " + job + " to start", Duration.ofMinutes(2), () -> {
            Map<?, ?> executable = (Map<?, ?>) ((Map<?, ?>) json(item + "api/json")).get("executable");
            return executable == null ? null : executable.get("number");
        });
        return ((Number) number).intValue();
    }

    /** Waits until the build is final (five minutes at most) and reads its result and console. */
    public Build waitForBuild(String job, int number) throws IOException, InterruptedException, TimeoutException {
        String result = waitFor(job + " #" + number + " to finish", BUILD_TIMEOUT, () -> finalResult(job, number));
        return new Build(job, number, result, console(job, number));
    }

    /** The build's result once it is final (no longer building), else null. */
    public String finalResult(String job, int number) throws IOException, InterruptedException {
        Map<?, ?> state = (Map<?, ?>) json(buildPath(job, number) + "api/json?tree=building,result");
        return Boolean.TRUE.equals(state.get("building")) ? null : (String) state.get("result");
    }

    public String console(String job, int number) throws IOException, InterruptedException {
        return get(buildPath(job, number) + "consoleText");
    }

    /** Waits until the running build's console has a line containing {@code text}. */
    public void waitForConsole(String job, int number, String text)
            throws IOException, InterruptedException, TimeoutException {
        waitFor("'" + text + "' in the console of " + job + " #" + number, BUILD_TIMEOUT, () -> {
            String console = console(job, number);
            if (!console.contains(text) && finalResult(job, number) != null) {
                throw new AssertionError(job + " #" + number + " ended before '" + text + "':\n" + console);
            }
            return console.contains(text) ? console : null;
        });
    }

    /** {@code POST /job/X/N/stop}: what the build page's stop button does. */
    public void abort(String job, int number) throws IOException, InterruptedException {
        send(HttpRequest.newBuilder(uri(buildPath(job, number) + "stop")).POST(HttpRequest.BodyPublishers.noBody()),
                200, 302);
    }

    /** The relative paths of the build's archived artifacts. */
    public List<String> artifacts(String job, int number) throws IOException, InterruptedException {
        Map<?, ?> build = (Map<?, ?>) json(buildPath(job, number) + "api/json?tree=artifacts%5BrelativePath%5D");
        return ((List<?>) build.get("artifacts")).stream()
                .map(a -> (String) ((Map<?, ?>) a).get("relativePath")).toList();
    }

    /** An archived artifact's content, as the controller serves it. */
    public byte[] artifact(String job, int number, String relativePath) throws IOException, InterruptedException {
        HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(
                uri(buildPath(job, number) + "artifact/" + relativePath)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw new IOException("GET artifact " + relativePath + ": HTTP " + response.statusCode());
        }
        return response.body();
    }

    /** {@code GET PATH} parsed as JSON (maps, lists, strings, numbers, booleans). */
    public Object json(String path) throws IOException, InterruptedException {
        return Json.parse(get(path));
    }

    public String get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).GET(), 200).body();
    }

    /** {@code POST PATH} with a form body (already encoded); any answer below 400 is fine. */
    public void post(String path, String form) throws IOException, InterruptedException {
        send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)), 200, 201, 302, 303);
    }

    /** {@code POST PATH} with a form body (already encoded), for an endpoint that answers with text (HTTP 200). */
    public String postForText(String path, String form) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)), 200).body();
    }

    // ------------------------------------------------------------------ agents

    /**
     * Starts an inbound agent with the runtime's {@code run-agent}: root {@code work/agent-NAME},
     * the given labels, the controller's environment. Stopped by {@link #close()}.
     */
    public Path startAgent(String agent, String labels) throws IOException, InterruptedException {
        return startAgent(agent, labels, Map.of());
    }

    /** An agent whose environment (and so its builds') has {@code environment} over the controller's. */
    public Path startAgent(String agent, String labels, Map<String, String> environment)
            throws IOException, InterruptedException {
        Path root = work.resolve("agent-" + agent);
        agents.add(agent);
        script(List.of(runtime().resolve("run-agent").toString(), "start", url, agent, root.toString(), labels),
                environment);
        return root;
    }

    /** Stops the agent's process: the node stays, offline. */
    public void stopAgent(String agent) throws IOException, InterruptedException {
        script(List.of(runtime().resolve("run-agent").toString(), "stop", agent));
        agents.remove(agent);
    }

    // ------------------------------------------------------------------ job definitions

    /** A Pipeline job running {@code script} (not sandboxed: anonymous is administrator here). */
    public static String pipelineJob(String script) {
        return "<?xml version='1.1' encoding='UTF-8'?>\n<flow-definition plugin=\"workflow-job\">\n"
                + "  <definition class=\"org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition\" plugin=\"workflow-cps\">\n"
                + "    <script>" + xml(script) + "</script>\n    <sandbox>false</sandbox>\n  </definition>\n"
                + "</flow-definition>\n";
    }

    /** A freestyle job with the given builders (XML), on the node or label {@code assignedNode} (null: anywhere). */
    public static String freestyleJob(String assignedNode, String... builders) {
        StringBuilder xml = new StringBuilder("<?xml version='1.1' encoding='UTF-8'?>\n<project>\n");
        if (assignedNode != null) {
            xml.append("  <assignedNode>").append(xml(assignedNode)).append("</assignedNode>\n")
                    .append("  <canRoam>false</canRoam>\n");
        }
        xml.append("  <builders>\n");
        for (String builder : builders) {
            xml.append(builder).append('\n');
        }
        return xml.append("  </builders>\n</project>\n").toString();
    }

    /** Text escaped for an XML element or attribute. */
    public static String xml(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
                .replace("'", "&apos;");
    }

    // ------------------------------------------------------------------ stopping

    /**
     * Stops the controller as a service manager does (SIGTERM to its JVM: Pipeline builds are kept to
     * resume) and starts it again on the same home and port. The first run's log is kept beside.
     */
    public void restart() throws IOException, InterruptedException {
        script(List.of(runtime().resolve("run-jenkins").toString(), "stop", home.toString()));
        Path log = home.resolve("jenkins.log");
        if (Files.exists(log)) {
            Files.move(log, home.resolve("jenkins-before-restart.log"), StandardCopyOption.REPLACE_EXISTING);
        }
        script(List.of(runtime().resolve("run-jenkins").toString(), "start", home.toString(),
                url.substring(url.lastIndexOf(':') + 1)));
    }

    @Override
    public synchronized void close() throws IOException, InterruptedException {
        if (stopped) {
            return;
        }
        stopped = true;
        IOException failure = null;
        for (String agent : agents) {
            try {
                script(List.of(runtime().resolve("run-agent").toString(), "stop", agent));
            } catch (IOException e) {
                failure = e;
            }
        }
        try {
            script(List.of(runtime().resolve("run-jenkins").toString(), "stop", home.toString()));
        } finally {
            keepLog();
            try {
                Runtime.getRuntime().removeShutdownHook(stopOnExit);
            } catch (IllegalStateException exiting) {
                // Called from the hook itself.
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void stopQuietly() {
        try {
            close();
        } catch (IOException | InterruptedException e) {
            System.err.println("could not stop Jenkins at " + home + ": " + e.getMessage());
        }
    }

    private void keepLog() throws IOException {
        Path log = home.resolve("jenkins.log");
        if (Files.exists(log)) {
            Files.createDirectories(LOGS);
            Files.copy(log, LOGS.resolve(name + "-jenkins.log"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    // ------------------------------------------------------------------ plumbing

    /** Runs one of the runtime's scripts with this controller's environment; fails with its output. */
    private String script(List<String> command) throws IOException, InterruptedException {
        return script(command, Map.of());
    }

    private String script(List<String> command, Map<String, String> extraEnvironment)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("LIBVIRT_DEFAULT_URI");
        builder.environment().putAll(environment);
        builder.environment().putAll(extraEnvironment);
        builder.environment().put("AGENT_STATE_DIR", work.resolve("run-agent").toString());
        // Loopback only: no update-site lookups, and no usage statistics (its pages would make a
        // browser fetch a script from the Internet).
        builder.environment().put("JAVA_OPTS", "-Dhudson.model.UpdateCenter.never=true "
                + "-Dhudson.model.DownloadService.never=true -Dhudson.model.UsageStatistics.disabled=true");
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not end in 5 minutes:\n" + output);
        }
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (" + process.exitValue() + "):\n" + output
                    + tail(home.resolve("jenkins.log")));
        }
        return output;
    }

    private static String tail(Path log) throws IOException {
        if (!Files.exists(log)) {
            return "";
        }
        List<String> lines = Files.readAllLines(log);
        return "\n--- end of " + log + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 40),
                lines.size()));
    }

    private HttpResponse<String> send(HttpRequest.Builder request, Integer... expected)
            throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request.timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (!List.of(expected).contains(response.statusCode())) {
            throw new IOException(response.request().method() + " " + response.uri() + ": HTTP "
                    + response.statusCode() + "\n" + response.body());
        }
        return response;
    }

    private URI uri(String path) {
        return URI.create(url + path);
    }

    private static String buildPath(String job, int number) {
        return "/job/" + encode(job) + "/" + number + "/";
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Something to poll: its value once there, else null. */
    @FunctionalInterface
    public interface Poll<T> {
        T get() throws IOException, InterruptedException;
    }

    /** Polls every 200 ms until {@code poll} gives a value; HTTP 404s (not there yet) count as null. */
    public static <T> T waitFor(String what, Duration timeout, Poll<T> poll)
            throws IOException, InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T value;
            try {
                value = poll.get();
            } catch (IOException e) {
                if (!String.valueOf(e.getMessage()).contains("HTTP 404")) {
                    throw e;
                }
                value = null;
            }
            if (value != null) {
                return value;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new TimeoutException("waited " + timeout.toSeconds() + " s for " + what);
            }
            Thread.sleep(200);
        }
    }

    /** Processes of this machine whose command line matches, as "PID command line". */
    public static List<String> processes(Predicate<String> commandLine) {
        return ProcessHandle.allProcesses()
                .map(p -> Map.entry(p.pid(), p.info().commandLine().orElse("")))
                .filter(e -> commandLine.test(e.getValue()))
                .map(e -> e.getKey() + " " + e.getValue()).toList();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
