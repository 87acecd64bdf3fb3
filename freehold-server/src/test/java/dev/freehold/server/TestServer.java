package dev.freehold.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A real server on a free loopback port, serving the given models, and a small HTTP client for raw checks. */
public final class TestServer implements AutoCloseable {
    public static final ObjectMapper JSON = new ObjectMapper();

    public final GenerationService service;
    public final EmbeddingService embeddings;
    public final FreeholdServer server;
    public final ServerMetrics metrics = new ServerMetrics();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String apiKey;

    /** @param models name to file; every model gets the ChatML template */
    public TestServer(Map<String, Path> models, int parallel, int maxQueue, int contextSize, Set<String> apiKeys, long maxBody)
            throws IOException {
        // Bundled embedding models are converted under FREEHOLD_HOME: keep tests out of the user's home.
        synchronized (TestServer.class) {
            if (System.getProperty("freehold.home") == null) {
                System.setProperty("freehold.home", java.nio.file.Files.createTempDirectory("freehold-home").toString());
            }
        }
        List<ServedModel> loaded = new ArrayList<>();
        for (var e : models.entrySet()) {
            loaded.add(TestModels.serve(e.getKey(), e.getValue(), parallel, maxQueue, contextSize, metrics.forModel(e.getKey())));
        }
        service = new GenerationService(loaded, new GenerationService.Limits(4096, 64, 8));
        embeddings = new EmbeddingService(Map.of(), true, new dev.freehold.core.infer.EngineOptions(2, dev.freehold.core.infer.EngineOptions.KvCacheType.F32), 64);
        server = FreeholdServer.start(service, embeddings, metrics, new ServerOptions("127.0.0.1", 0, apiKeys, maxBody));
        apiKey = apiKeys.isEmpty() ? null : apiKeys.iterator().next();
    }

    public static TestServer random() throws IOException {
        return new TestServer(Map.of("random", TestModels.randomLlama()), 4, 8, 512, Set.of(), 1 << 20);
    }

    public String base() {
        return "http://127.0.0.1:" + server.port();
    }

    public HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return post(path, body, apiKey);
    }

    public HttpResponse<String> post(String path, String body, String key) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofMinutes(2))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return get(path, apiKey);
    }

    public HttpResponse<String> get(String path, String key) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofMinutes(2)).GET();
        if (key != null) b.header("Authorization", "Bearer " + key);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public static JsonNode json(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + s, e);
        }
    }

    /** The data payloads of a server-sent event stream, checking its framing: every event is one data line and a blank line. */
    public static List<String> sseData(String body) {
        List<String> out = new ArrayList<>();
        for (String event : body.split("\n\n", -1)) {
            if (event.isEmpty()) continue;
            if (!event.startsWith("data: ") || event.contains("\n")) throw new AssertionError("malformed event: " + event);
            out.add(event.substring(6));
        }
        if (!body.endsWith("\n\n")) throw new AssertionError("the stream does not end with a blank line");
        return out;
    }

    @Override
    public void close() {
        server.close();
        service.close();
        embeddings.close();
    }
}
