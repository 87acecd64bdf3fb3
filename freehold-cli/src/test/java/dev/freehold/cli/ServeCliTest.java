package dev.freehold.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ServeCliTest {

    @Test
    void aNonLoopbackAddressNeedsApiKeys() {
        Path model = CliTest.stories().resolve("stories260K.gguf");
        CliTest.Result r = CliTest.run("serve", "-m", model.toString(), "--host", "0.0.0.0", "--port", "0");
        assertThat(r.code()).isEqualTo(Main.EXIT_BAD_INPUT);
        assertThat(r.err()).contains("API keys").contains("--no-auth");
    }

    @Test
    void badArgumentsAreRefusedBeforeLoading() {
        Path model = CliTest.stories().resolve("stories260K.gguf");
        assertThat(CliTest.run("serve", "-m", "/no/such/model.gguf").err()).contains("no model file");
        assertThat(CliTest.run("serve", "-m", model.toString(), "--parallel", "0").err()).contains("--parallel");
        assertThat(CliTest.run("serve", "-m", "a=" + model, "-m", "a=" + model).err()).contains("two models are named 'a'");
    }

    /** The real command in its own JVM: it prints where it listens, answers, and stops cleanly on SIGTERM. */
    @Test
    void servesUntilTerminated() throws Exception {
        Path model = CliTest.stories().resolve("stories260K.gguf");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "dev.freehold.cli.Main",
                "serve", "-m", "tiny=" + model, "--port", "0", "--chat-template", "chatml", "--api-key", "s3cret", "-t", "1"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            // Read the output on its own thread: Process.destroy() would close the stream under a reader.
            StringBuffer seen = new StringBuffer();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = out.readLine()) != null; ) seen.append(line).append('\n');
                } catch (java.io.IOException ignored) {
                    // the process went away
                }
            });
            Pattern listening = Pattern.compile("Listening on (http://127\\.0\\.0\\.1:\\d+)");
            String base = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (base == null && System.nanoTime() < deadline && p.isAlive()) {
                Matcher m = listening.matcher(seen);
                if (m.find()) base = m.group(1);
                else Thread.sleep(20);
            }
            assertThat(base).as(seen.toString()).isNotNull();
            assertThat(seen.toString()).contains("Serving tiny").contains("API keys required");
            HttpClient http = HttpClient.newHttpClient();
            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).isEqualTo(200);
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                    .header("Authorization", "Bearer s3cret")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"Once upon a time\",\"max_tokens\":8,\"temperature\":0}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).contains("\"model\":\"tiny\"").contains(" there was");
            p.toHandle().destroy(); // SIGTERM: the shutdown hook stops the server
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            reader.join(10_000);
            // the access log holds the request but not the prompt
            assertThat(seen.toString()).contains("\"path\":\"/v1/completions\"").contains("\"model\":\"tiny\",\"prompt_tokens\":5,\"completion_tokens\":8")
                    .doesNotContain("Once upon a time");
        } finally {
            p.destroyForcibly();
        }
    }
}
