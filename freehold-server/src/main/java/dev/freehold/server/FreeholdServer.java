package dev.freehold.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.freehold.server.ollama.OllamaApi;
import dev.freehold.server.openai.OpenAiApi;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server: OpenAI ({@code /v1}) and Ollama ({@code /api}) adapters over one {@link GenerationService},
 * with health, Prometheus metrics, API-key authentication, request bounds and a structured access log that holds
 * no prompt contents. Requests run on virtual threads; generation runs on the models' scheduler threads.
 */
public final class FreeholdServer implements AutoCloseable {
    private static final Logger ACCESS = LoggerFactory.getLogger("freehold.access");
    private static final Logger LOG = LoggerFactory.getLogger(FreeholdServer.class);
    /** Long answers are written only at the end: the connection must not time out meanwhile. */
    private static final Duration IDLE_TIMEOUT = Duration.ofMinutes(30);

    private static final String ERROR_WRITTEN = "freehold.error-written";

    private final Javalin app;
    private final GenerationService service;
    private final EmbeddingService embeddings;
    private final ServerMetrics metrics;
    private final ServerOptions options;
    private final ObjectMapper json = new ObjectMapper();
    private final List<byte[]> keyDigests = new ArrayList<>();

    private FreeholdServer(GenerationService service, EmbeddingService embeddings, ServerMetrics metrics, ServerOptions options) {
        this.service = service;
        this.embeddings = embeddings;
        this.metrics = metrics;
        this.options = options;
        for (String k : options.apiKeys()) keyDigests.add(sha256(k));
        OpenAiApi openai = new OpenAiApi(service, embeddings, json);
        OllamaApi ollama = new OllamaApi(service, embeddings, json);
        EmbeddingsApi embed = new EmbeddingsApi(embeddings, service, json);
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.concurrency.useVirtualThreads = true;
            config.http.maxRequestSize = options.maxBodyBytes();
            // Compression would buffer streamed tokens.
            config.http.compressionStrategy = CompressionStrategy.NONE;
            config.jsonMapper(new JavalinJackson(json, true));
            config.jetty.host = options.host();
            config.jetty.port = options.port();
            var r = config.routes;
            r.get("/health", ctx -> handle(ctx, "/health", Api.PLAIN, false, () -> health(ctx)));
            r.get("/metrics", ctx -> handle(ctx, "/metrics", Api.PLAIN, true, () ->
                    ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape())));

            r.get("/v1/models", ctx -> handle(ctx, "/v1/models", Api.OPENAI, true, () -> openai.listModels(ctx)));
            r.get("/v1/models/{model}", ctx -> handle(ctx, "/v1/models/{model}", Api.OPENAI, true, () -> openai.getModel(ctx)));
            r.post("/v1/chat/completions", ctx -> handle(ctx, "/v1/chat/completions", Api.OPENAI, true,
                    () -> openai.chatCompletions(ctx, body(ctx))));
            r.post("/v1/completions", ctx -> handle(ctx, "/v1/completions", Api.OPENAI, true,
                    () -> openai.completions(ctx, body(ctx))));
            r.post("/v1/embeddings", ctx -> handle(ctx, "/v1/embeddings", Api.OPENAI, true, () -> embed.openAi(ctx, body(ctx))));
            r.post("/api/embed", ctx -> handle(ctx, "/api/embed", Api.OLLAMA, true, () -> embed.ollamaEmbed(ctx, body(ctx))));
            r.post("/api/embeddings", ctx -> handle(ctx, "/api/embeddings", Api.OLLAMA, true, () -> embed.ollamaEmbeddings(ctx, body(ctx))));

            r.get("/api/version", ctx -> handle(ctx, "/api/version", Api.OLLAMA, true, () -> ollama.version(ctx)));
            r.get("/api/tags", ctx -> handle(ctx, "/api/tags", Api.OLLAMA, true, () -> ollama.tags(ctx)));
            r.get("/api/ps", ctx -> handle(ctx, "/api/ps", Api.OLLAMA, true, () -> ollama.ps(ctx)));
            r.post("/api/show", ctx -> handle(ctx, "/api/show", Api.OLLAMA, true, () -> ollama.show(ctx, body(ctx))));
            r.post("/api/generate", ctx -> handle(ctx, "/api/generate", Api.OLLAMA, true, () -> ollama.generate(ctx, body(ctx))));
            r.post("/api/chat", ctx -> handle(ctx, "/api/chat", Api.OLLAMA, true, () -> ollama.chat(ctx, body(ctx))));
            // Ollama answers this to show it is up.
            r.get("/", ctx -> handle(ctx, "/", Api.PLAIN, false, () -> ctx.result("Freehold is running")));

            r.error(404, ctx -> {
                if (ctx.attribute(ERROR_WRITTEN) != null) return; // a handler's own 404 (e.g. an unknown model)
                Api api = ctx.path().startsWith("/api") ? Api.OLLAMA : Api.OPENAI;
                writeError(ctx, api, new ApiException(404, "invalid_request_error", null, "unknown_url",
                        "Unknown request URL: " + ctx.method() + " " + ctx.path()));
            });
            r.error(405, ctx -> writeError(ctx, ctx.path().startsWith("/api") ? Api.OLLAMA : Api.OPENAI,
                    new ApiException(405, "invalid_request_error", null, "method_not_allowed", "Method " + ctx.method() + " is not allowed on " + ctx.path())));
        });
    }

    /** Starts serving; returns once the port is bound. */
    public static FreeholdServer start(GenerationService service, EmbeddingService embeddings, ServerMetrics metrics, ServerOptions options) {
        FreeholdServer s = new FreeholdServer(service, embeddings, metrics, options);
        s.app.start();
        for (var c : s.app.jettyServer().server().getConnectors()) {
            if (c instanceof ServerConnector sc) sc.setIdleTimeout(IDLE_TIMEOUT.toMillis());
        }
        return s;
    }

    public int port() {
        return app.port();
    }

    private enum Api { OPENAI, OLLAMA, PLAIN }

    @FunctionalInterface
    private interface Body {
        void run() throws Exception;
    }

    /** Every endpoint: authentication, the handler, errors in the API's own shape, metrics and the access log. */
    private void handle(Context ctx, String endpoint, Api api, boolean authenticated, Body body) {
        long t0 = System.nanoTime();
        String error = null;
        try {
            if (authenticated && !keyDigests.isEmpty()) authenticate(ctx);
            body.run();
        } catch (ApiException e) {
            error = e.getMessage();
            writeError(ctx, api, e);
        } catch (JsonProcessingException e) {
            error = "invalid JSON";
            writeError(ctx, api, ApiException.invalid(null, "The request body is not valid JSON: " + e.getOriginalMessage()));
        } catch (java.io.IOException e) {
            error = e.toString();
            writeError(ctx, api, ApiException.invalid(null, "The request body could not be read: " + e.getMessage()));
        } catch (HttpResponseException e) {
            error = e.getMessage();
            String message = e.getStatus() == 413 ? "The request body exceeds %d bytes".formatted(options.maxBodyBytes()) : e.getMessage();
            writeError(ctx, api, new ApiException(e.getStatus(), "invalid_request_error", null, null, message));
        } catch (Exception e) {
            error = e.toString();
            LOG.error("{} failed", endpoint, e);
            writeError(ctx, api, new ApiException(500, "server_error", null, null, "Internal error: " + e.getClass().getSimpleName()));
        }
        long nanos = System.nanoTime() - t0;
        int status = ctx.statusCode();
        metrics.request(endpoint, status, nanos);
        if (!endpoint.equals("/health") && !endpoint.equals("/metrics")) {
            ObjectNode line = json.createObjectNode().put("time", Instant.now().toString()).put("method", ctx.method().name())
                    .put("path", ctx.path()).put("status", status).put("ms", nanos / 1_000_000).put("remote", ctx.ip());
            RequestFacts facts = ctx.attribute(RequestFacts.ATTRIBUTE);
            if (facts != null) {
                line.put("model", facts.model()).put("prompt_tokens", facts.promptTokens()).put("completion_tokens", facts.completionTokens());
            }
            if (error != null) line.put("error", error);
            ACCESS.info(line.toString());
        }
    }

    private JsonNode body(Context ctx) throws java.io.IOException {
        byte[] bytes = ctx.bodyAsBytes(); // 413 beyond maxRequestSize
        if (bytes.length == 0) throw ApiException.invalid(null, "The request body is empty; a JSON object is expected");
        JsonNode n = json.readTree(bytes);
        if (n == null || !n.isObject()) throw ApiException.invalid(null, "The request body must be a JSON object");
        return n;
    }

    private void health(Context ctx) {
        boolean ok = !service.models().isEmpty() || !embeddings.models().isEmpty();
        ctx.status(ok ? 200 : 503).json(json.createObjectNode().put("status", ok ? "ok" : "no model loaded"));
    }

    /** Bearer keys compared as SHA-256 digests in constant time, against every key (no early exit). */
    private void authenticate(Context ctx) {
        String header = ctx.header("Authorization");
        boolean ok = false;
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            byte[] presented = sha256(header.substring(7).trim());
            for (byte[] k : keyDigests) ok |= MessageDigest.isEqual(k, presented);
        }
        if (!ok) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiException(401, "invalid_request_error", null, "invalid_api_key",
                    header == null ? "Missing API key: send 'Authorization: Bearer KEY'" : "Incorrect API key provided");
        }
    }

    private void writeError(Context ctx, Api api, ApiException e) {
        if (ctx.res().isCommitted()) return; // a stream already started: it reports errors itself
        ctx.attribute(ERROR_WRITTEN, Boolean.TRUE);
        ctx.status(e.status());
        if (e.status() == 429) ctx.header("Retry-After", "1");
        ObjectNode body = json.createObjectNode();
        if (api == Api.OLLAMA) {
            body.put("error", e.getMessage());
        } else {
            ObjectNode err = body.putObject("error").put("message", e.getMessage()).put("type", e.type());
            if (e.param() == null) err.putNull("param");
            else err.put("param", e.param());
            if (e.code() == null) err.putNull("code");
            else err.put("code", e.code());
        }
        ctx.contentType("application/json").result(body.toString());
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        app.stop();
    }
}
