package dev.freehold.server;

import dev.freehold.core.chat.ChatTemplate;
import dev.freehold.core.chat.ChatTemplates;
import dev.freehold.core.chat.TemplateException;
import dev.freehold.core.infer.Engine;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.server.generation.Scheduler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/** A model the server offers under a name: its engine, chat template and scheduler. */
public final class ServedModel implements AutoCloseable {
    private final String name;
    private final Engine engine;
    private final ChatTemplate chatTemplate; // null: the model has none and none was named
    private final String chatTemplateProblem;
    private final Scheduler scheduler;
    private final Instant loadedAt;
    private final Instant modifiedAt;
    private final long sizeBytes;
    private final long loadNanos;
    private final Details details;

    /** What Ollama's listings show of a model. */
    public record Details(String family, long parameters, String quantization) {
        /** As Ollama writes it: "1.2B", "135M". */
        public String parameterSize() {
            if (parameters >= 1_000_000_000L) return String.format(java.util.Locale.ROOT, "%.1fB", parameters / 1e9);
            if (parameters >= 1_000_000L) return String.format(java.util.Locale.ROOT, "%.0fM", parameters / 1e6);
            return String.format(java.util.Locale.ROOT, "%.0fK", parameters / 1e3);
        }
    }

    public Details details() {
        return details;
    }

    private ServedModel(String name, Engine engine, ChatTemplate chatTemplate, String chatTemplateProblem,
                        Scheduler scheduler, Details details, Instant modifiedAt, long sizeBytes, long loadNanos) {
        this.details = details;
        this.name = name;
        this.engine = engine;
        this.chatTemplate = chatTemplate;
        this.chatTemplateProblem = chatTemplateProblem;
        this.scheduler = scheduler;
        this.loadedAt = Instant.now();
        this.modifiedAt = modifiedAt;
        this.sizeBytes = sizeBytes;
        this.loadNanos = loadNanos;
    }

    /**
     * Loads a GGUF file and starts its scheduler.
     *
     * @param chatTemplateName a built-in template's name, or null for the model's own
     * @param contextSize      positions per sequence; 0 for min(model context, 4096)
     */
    public static ServedModel load(String name, Path file, EngineOptions engineOptions, String chatTemplateName,
                                   int parallel, int maxQueue, int contextSize, int promptBatch,
                                   Scheduler.Listener listener) throws IOException {
        long t0 = System.nanoTime();
        Engine engine = Engine.load(file, engineOptions);
        try {
            ChatTemplate template = null;
            String problem = null;
            try {
                template = ChatTemplates.forModel(engine.metadata(), engine.tokenizer(), chatTemplateName);
            } catch (TemplateException e) {
                problem = e.getMessage();
            }
            int ctx = contextSize > 0 ? contextSize : Math.min(engine.config().contextLength(), 4096);
            if (ctx > engine.config().contextLength()) {
                throw new IllegalArgumentException("--ctx-size %d exceeds the context of %s (%d)"
                        .formatted(ctx, file.getFileName(), engine.config().contextLength()));
            }
            Details details;
            try (dev.freehold.core.format.gguf.GgufFile f = dev.freehold.core.format.gguf.GgufFile.open(file)) {
                dev.freehold.core.model.ModelSummary summary = dev.freehold.core.model.ModelSummary.of(f);
                String quant = summary.tensorTypes().entrySet().stream()
                        .max(java.util.Comparator.comparingLong(e -> e.getValue().bytes()))
                        .map(e -> e.getKey().name()).orElse("unknown");
                details = new Details(engine.config().architecture().ggufName(),
                        summary.parameters(), quant);
            }
            Scheduler scheduler = new Scheduler(engine, new Scheduler.Options(parallel, maxQueue, ctx, promptBatch), listener, name);
            return new ServedModel(name, engine, template, problem, scheduler, details,
                    Files.getLastModifiedTime(file).toInstant(), Files.size(file), System.nanoTime() - t0);
        } catch (IOException | RuntimeException e) {
            engine.close();
            throw e;
        }
    }

    public String name() {
        return name;
    }

    public Engine engine() {
        return engine;
    }

    /** The chat template, or an error naming why there is none. */
    public ChatTemplate chatTemplate() {
        if (chatTemplate == null) {
            throw new ApiException(400, "invalid_request_error", "messages", null,
                    "The model '" + name + "' cannot chat: " + chatTemplateProblem + " (start the server with --chat-template)");
        }
        return chatTemplate;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public Instant loadedAt() {
        return loadedAt;
    }

    public Instant modifiedAt() {
        return modifiedAt;
    }

    public long sizeBytes() {
        return sizeBytes;
    }

    public long loadNanos() {
        return loadNanos;
    }

    /** A short identifier of this model file's version (size and modification time), for system_fingerprint. */
    public String fingerprint() {
        String key = engine.path().toAbsolutePath() + "|" + sizeBytes + "|" + modifiedAt.toEpochMilli();
        return sha256(key.getBytes(java.nio.charset.StandardCharsets.UTF_8)).substring(0, 10);
    }

    private String digest;

    /** The file's SHA-256, as Ollama lists model digests; computed once, on first use. */
    public synchronized String digest() {
        if (digest == null) {
            try (var in = Files.newInputStream(engine.path())) {
                java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
                byte[] buf = new byte[1 << 20];
                int n;
                while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
                digest = java.util.HexFormat.of().formatHex(md.digest());
            } catch (IOException | java.security.NoSuchAlgorithmException e) {
                digest = sha256(engine.path().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return digest;
    }

    private static String sha256(byte[] data) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        scheduler.close();
        engine.close();
    }
}
