package dev.freehold.cli;

import dev.freehold.core.infer.EngineOptions;
import dev.freehold.server.EmbeddingService;
import dev.freehold.server.FreeholdServer;
import dev.freehold.server.GenerationService;
import dev.freehold.server.ServedModel;
import dev.freehold.server.ServerMetrics;
import dev.freehold.server.ServerOptions;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve models over OpenAI- and Ollama-compatible HTTP APIs (/v1 and /api), with continuous batching.",
                "Binds to 127.0.0.1 unless --host says otherwise; a non-loopback address needs API keys (or --no-auth).",
                "API keys: --api-key, --api-keys FILE (one per line) or the FREEHOLD_API_KEY environment variable."},
        footer = {"", "Examples:", "  freehold serve -m stories260K.gguf",
                "  freehold serve -m llama=Llama-3.2-1B-Instruct-Q8_0.gguf --parallel 4 --port 11434",
                "  FREEHOLD_API_KEY=secret freehold serve -m model.gguf --host 0.0.0.0"})
final class ServeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "[NAME=]FILE",
            description = "a .gguf model to serve, under NAME or its file name without .gguf; repeatable")
    List<String> models;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to listen on (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "port (default: ${DEFAULT-VALUE}; 0: any free port)")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY", description = "require this bearer key (prefer FREEHOLD_API_KEY: arguments show in ps)")
    String apiKey;

    @Option(names = "--api-keys", paramLabel = "FILE", description = "require one of the keys in this file, one per line")
    Path apiKeysFile;

    @Option(names = "--no-auth", description = "allow a non-loopback --host without API keys")
    boolean noAuth;

    @Option(names = {"-np", "--parallel"}, defaultValue = "4", description = "sequences generated at once per model (default: ${DEFAULT-VALUE})")
    int parallel;

    @Option(names = "--max-queue", defaultValue = "64", description = "requests that may wait per model; beyond it, 429 (default: ${DEFAULT-VALUE})")
    int maxQueue;

    @Option(names = {"-c", "--ctx-size"}, defaultValue = "0", description = "context per sequence (default: the model's, at most 4096)")
    int contextSize;

    @Option(names = "--prompt-batch", defaultValue = "32", description = "prompt tokens run per step, so long prompts do not stall streams (default: ${DEFAULT-VALUE})")
    int promptBatch;

    @Option(names = {"-t", "--threads"}, description = "worker threads per model (default: the machine's cores)")
    Integer threads;

    @Option(names = "--chat-template", paramLabel = "NAME", description = "a built-in chat template instead of the models' own")
    String chatTemplate;

    @Option(names = "--max-body", defaultValue = "4194304", description = "largest request body in bytes (default: ${DEFAULT-VALUE})")
    long maxBody;

    @Option(names = "--max-tokens", defaultValue = "8192", description = "most tokens one request may generate (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--max-messages", defaultValue = "1024", description = "most messages (or prompts) per request (default: ${DEFAULT-VALUE})")
    int maxMessages;

    @Option(names = "--max-choices", defaultValue = "16", description = "largest n (choices) per request (default: ${DEFAULT-VALUE})")
    int maxChoices;

    @Option(names = "--no-bundled-embeddings", description = "do not offer the bundled embedding models (all-minilm)")
    boolean noBundled;

    @Option(names = "--max-embedding-inputs", defaultValue = "2048", description = "most inputs per embeddings request (default: ${DEFAULT-VALUE})")
    int maxEmbeddingInputs;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (parallel < 1) throw new IllegalArgumentException("--parallel must be at least 1");
        if (maxQueue < 0) throw new IllegalArgumentException("--max-queue must not be negative");
        if (maxEmbeddingInputs < 1) throw new IllegalArgumentException("--max-embedding-inputs must be at least 1");
        if (maxTokens < 1 || maxMessages < 1 || maxChoices < 1 || maxBody < 1024) {
            throw new IllegalArgumentException("--max-tokens, --max-messages and --max-choices must be positive, --max-body at least 1024");
        }
        if (threads != null && threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        Set<String> keys = apiKeys();
        if (keys.isEmpty() && !noAuth && !isLoopback(host)) {
            throw new IllegalArgumentException("--host " + host + " exposes the server beyond this machine: set API keys "
                    + "(--api-key, --api-keys or FREEHOLD_API_KEY), or pass --no-auth to serve without them");
        }
        Map<String, Path> named = new LinkedHashMap<>();
        for (String m : models) {
            int eq = m.indexOf('=');
            String name;
            Path file;
            if (eq > 0 && !Files.exists(Path.of(m))) {
                name = m.substring(0, eq);
                file = Path.of(m.substring(eq + 1));
            } else {
                file = Path.of(m);
                String f = file.getFileName().toString();
                name = f.endsWith(".gguf") ? f.substring(0, f.length() - 5) : f;
            }
            if (!Files.isRegularFile(file)) throw new IllegalArgumentException("no model file " + file);
            if (named.putIfAbsent(name, file) != null) throw new IllegalArgumentException("two models are named '" + name + "'; name them with NAME=FILE");
        }
        EngineOptions engineOptions = threads == null ? EngineOptions.defaults() : EngineOptions.defaults().withThreads(threads);
        // BERT-family files are embedding models; the rest generate text.
        Map<String, Path> encoders = new LinkedHashMap<>();
        for (var e : List.copyOf(named.entrySet())) {
            if (dev.freehold.core.infer.BertEncoder.isEncoderFile(e.getValue())) {
                encoders.put(e.getKey(), e.getValue());
                named.remove(e.getKey());
            }
        }
        ServerMetrics metrics = new ServerMetrics();
        List<ServedModel> loaded = new ArrayList<>();
        try {
            for (var e : named.entrySet()) {
                out.printf("Loading %s from %s%n", e.getKey(), e.getValue());
                out.flush();
                loaded.add(ServedModel.load(e.getKey(), e.getValue(), engineOptions, chatTemplate, parallel, maxQueue,
                        contextSize, promptBatch, metrics.forModel(e.getKey())));
            }
        } catch (Exception e) {
            loaded.forEach(ServedModel::close);
            throw e;
        }
        GenerationService service = new GenerationService(loaded, new GenerationService.Limits(maxTokens, maxMessages, maxChoices));
        EmbeddingService embeddings = new EmbeddingService(encoders, !noBundled, engineOptions, maxEmbeddingInputs);
        FreeholdServer server = FreeholdServer.start(service, embeddings, metrics, new ServerOptions(host, port, keys, maxBody));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            service.close();
            embeddings.close();
            stopped.countDown();
        }, "freehold-shutdown"));
        String base = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + server.port();
        for (ServedModel m : loaded) {
            out.printf("Serving %s (%s, %s, context %d per sequence, %d in parallel)%n", m.name(), m.details().parameterSize(),
                    m.details().quantization(), m.scheduler().options().contextSize(), parallel);
        }
        for (var m : embeddings.models()) out.printf("Embedding model %s%s%n", m.name(), encoders.containsKey(m.name()) ? "" : " (bundled, loaded on first use)");
        out.printf("Listening on %s  (OpenAI: %s/v1, Ollama: %s/api, metrics: %s/metrics)%s%n", base, base, base, base,
                keys.isEmpty() ? "" : "; API keys required");
        out.flush();
        stopped.await();
        return 0;
    }

    private Set<String> apiKeys() throws java.io.IOException {
        Set<String> keys = new LinkedHashSet<>();
        if (apiKey != null) keys.add(apiKey);
        String env = System.getenv("FREEHOLD_API_KEY");
        if (env != null && !env.isBlank()) keys.add(env.trim());
        if (apiKeysFile != null) {
            for (String line : Files.readAllLines(apiKeysFile, StandardCharsets.UTF_8)) {
                String k = line.strip();
                if (!k.isEmpty() && !k.startsWith("#")) keys.add(k);
            }
            if (keys.isEmpty()) throw new IllegalArgumentException(apiKeysFile + " holds no keys");
        }
        for (String k : keys) if (k.isBlank()) throw new IllegalArgumentException("an API key must not be blank");
        return keys;
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }
}
