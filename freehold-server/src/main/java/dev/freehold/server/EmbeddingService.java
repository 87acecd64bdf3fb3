package dev.freehold.server;

import dev.freehold.core.embed.BundledEmbeddingModels;
import dev.freehold.core.infer.BertEncoder;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.util.ProgressListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The embedding models a server offers: BERT GGUF files given with {@code -m}, and the bundled models (converted and
 * loaded on first use, so a server that never embeds pays nothing). One request embeds as one batch; requests to the
 * same model take turns.
 */
public final class EmbeddingService implements AutoCloseable {
    /** One input: text to tokenize, or token ids given directly. */
    public sealed interface Input {
    }

    public record Text(String text) implements Input {
    }

    public record Ids(int[] ids) implements Input {
    }

    /** The vectors, and per input its token count and whether it was cut to the model's length. */
    public record Result(String model, float[][] vectors, int[] tokens, boolean[] truncated, long loadNanos, long embedNanos) {
        public int totalTokens() {
            int n = 0;
            for (int t : tokens) n += t;
            return n;
        }
    }

    /** A served embedding model; its encoder is loaded on first use. */
    public final class Model {
        private final String name;
        private final Path file; // null: bundled, converted on first use
        private final ReentrantLock lock = new ReentrantLock();
        private BertEncoder encoder;
        private long loadNanos;

        Model(String name, Path file) {
            this.name = name;
            this.file = file;
        }

        public String name() {
            return name;
        }

        /** The file's modification time, or now for a bundled model not yet converted. */
        public Instant modifiedAt() {
            try {
                return file != null ? Files.getLastModifiedTime(file).toInstant() : Instant.now();
            } catch (IOException e) {
                return Instant.now();
            }
        }

        private BertEncoder encoder() {
            if (encoder == null) {
                long t0 = System.nanoTime();
                try {
                    Path f = file != null ? file : BundledEmbeddingModels.gguf(name, ProgressListener.NONE).orElseThrow();
                    encoder = BertEncoder.load(f, options);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                loadNanos = System.nanoTime() - t0;
            }
            return encoder;
        }
    }

    private final Map<String, Model> models = new LinkedHashMap<>();
    private final EngineOptions options;
    private final int maxInputs;

    /**
     * @param files     name to BERT GGUF file
     * @param bundled   also offer the bundled models found on the class path
     * @param maxInputs most inputs per request
     */
    public EmbeddingService(Map<String, Path> files, boolean bundled, EngineOptions options, int maxInputs) {
        this.options = options;
        this.maxInputs = maxInputs;
        files.forEach((n, f) -> models.put(n, new Model(n, f)));
        if (bundled) {
            for (String n : BundledEmbeddingModels.names()) {
                if (BundledEmbeddingModels.available(n)) models.putIfAbsent(n, new Model(n, null));
            }
        }
    }

    public List<Model> models() {
        return new ArrayList<>(models.values());
    }

    /** The model by name (an Ollama {@code :latest} tag is ignored), or null. */
    public Model find(String name) {
        if (name == null) return null;
        Model m = models.get(name);
        if (m == null && name.endsWith(":latest")) m = models.get(name.substring(0, name.length() - 7));
        return m;
    }

    /**
     * Embeds the inputs as one batch with the model's pooling, normalised.
     *
     * @param truncate cut inputs longer than the model takes; when false, such an input is a 400
     */
    public Result embed(Model model, List<Input> inputs, boolean truncate, String param) {
        if (inputs.isEmpty()) throw ApiException.invalid(param, "no input to embed");
        if (inputs.size() > maxInputs) throw ApiException.invalid(param, "at most %d inputs per request, got %d".formatted(maxInputs, inputs.size()));
        model.lock.lock();
        try {
            long loadStart = System.nanoTime();
            boolean loaded = model.encoder != null;
            BertEncoder enc = model.encoder();
            long load = loaded ? 0 : System.nanoTime() - loadStart;
            List<int[]> ids = new ArrayList<>(inputs.size());
            int[] counts = new int[inputs.size()];
            boolean[] cut = new boolean[inputs.size()];
            int vocab = enc.tokenizer().vocabulary().size();
            for (int i = 0; i < inputs.size(); i++) {
                int[] t;
                switch (inputs.get(i)) {
                    case Text text -> {
                        if (text.text().isEmpty()) throw ApiException.invalid(param, "input " + i + " is an empty string");
                        BertEncoder.Tokens tk = enc.tokenize(text.text());
                        t = tk.ids();
                        cut[i] = tk.truncated();
                    }
                    case Ids given -> {
                        if (given.ids().length == 0) throw ApiException.invalid(param, "input " + i + " has no tokens");
                        for (int id : given.ids()) {
                            if (id < 0 || id >= vocab) throw ApiException.invalid(param, "input %d: token id %d is outside the vocabulary".formatted(i, id));
                        }
                        t = given.ids();
                        if (t.length > enc.maxTokens()) {
                            t = java.util.Arrays.copyOf(t, enc.maxTokens());
                            cut[i] = true;
                        }
                    }
                }
                if (cut[i] && !truncate) {
                    throw ApiException.invalid(param, "input %d is longer than the %d tokens %s takes (set truncate to cut it)"
                            .formatted(i, enc.maxTokens(), model.name));
                }
                ids.add(t);
                counts[i] = t.length;
            }
            long t0 = System.nanoTime();
            float[][] v = enc.embed(ids, enc.defaultPooling(), true);
            return new Result(model.name, v, counts, cut, load, System.nanoTime() - t0);
        } finally {
            model.lock.unlock();
        }
    }

    /**
     * Embeds with a text generation model (mean pooling over its output norm, as llama.cpp's embedding mode), each
     * input run on the model's scheduler thread between generation steps.
     */
    public Result embedWithDecoder(ServedModel model, List<Input> inputs, boolean truncate, String param) {
        if (inputs.isEmpty()) throw ApiException.invalid(param, "no input to embed");
        if (inputs.size() > maxInputs) throw ApiException.invalid(param, "at most %d inputs per request, got %d".formatted(maxInputs, inputs.size()));
        var engine = model.engine();
        int limit = model.scheduler().options().contextSize();
        List<int[]> all = new ArrayList<>();
        boolean[] cut = new boolean[inputs.size()];
        int[] counts = new int[inputs.size()];
        for (int i = 0; i < inputs.size(); i++) {
            int[] t = switch (inputs.get(i)) {
                case Text text -> {
                    if (text.text().isEmpty()) throw ApiException.invalid(param, "input " + i + " is an empty string");
                    yield engine.tokenizer().encode(text.text(), true, false);
                }
                case Ids given -> {
                    for (int id : given.ids()) {
                        if (id < 0 || id >= engine.config().vocab()) throw ApiException.invalid(param, "input %d: token id %d is outside the vocabulary".formatted(i, id));
                    }
                    if (given.ids().length == 0) throw ApiException.invalid(param, "input " + i + " has no tokens");
                    yield given.ids();
                }
            };
            if (t.length > limit) {
                if (!truncate) throw ApiException.invalid(param, "input %d has %d tokens; %s takes %d".formatted(i, t.length, model.name(), limit));
                t = java.util.Arrays.copyOf(t, limit);
                cut[i] = true;
            }
            all.add(t);
            counts[i] = t.length;
        }
        long t0 = System.nanoTime();
        float[][] vectors = new float[all.size()][];
        try {
            for (int i = 0; i < all.size(); i++) {
                int[] ids = all.get(i);
                vectors[i] = model.scheduler().onEngineThread(e -> e.embed(ids, dev.freehold.core.infer.Engine.Pooling.MEAN, true)).get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "server_error", null, null, "interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new ApiException(500, "server_error", null, null, "embedding failed: " + e.getCause());
        }
        return new Result(model.name(), vectors, counts, cut, 0, System.nanoTime() - t0);
    }

    /** The model's vector length (loading it if needed). */
    public int dimension(Model model) {
        model.lock.lock();
        try {
            return model.encoder().dimension();
        } finally {
            model.lock.unlock();
        }
    }

    @Override
    public void close() {
        for (Model m : models.values()) {
            m.lock.lock();
            try {
                if (m.encoder != null) m.encoder.close();
                m.encoder = null;
            } finally {
                m.lock.unlock();
            }
        }
    }
}
