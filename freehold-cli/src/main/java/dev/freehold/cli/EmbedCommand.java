package dev.freehold.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.freehold.core.embed.BundledEmbeddingModels;
import dev.freehold.core.infer.BertEncoder;
import dev.freehold.core.infer.Engine;
import dev.freehold.core.infer.EngineOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Turn texts into embedding vectors with a BERT-family model (default: the bundled all-minilm, no download).",
                "Reads one text per line from stdin when no TEXT is given. Prints one vector per line, or --json."},
        footer = {"", "Examples:", "  freehold embed \"The cat sat on the mat\" \"A feline rested on the rug\"",
                "  cat sentences.txt | freehold embed --json > vectors.json",
                "  freehold embed -m bge-small-en-v1.5-f16.gguf --pooling cls \"query: what is GGUF?\""})
final class EmbedCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, defaultValue = BundledEmbeddingModels.DEFAULT, paramLabel = "MODEL",
            description = "a GGUF file (BERT-family, or a text generation model: mean pooling) or a bundled model's name (default: ${DEFAULT-VALUE})")
    String model;

    @Parameters(paramLabel = "TEXT", arity = "0..*", description = "texts to embed")
    List<String> texts = new ArrayList<>();

    @Option(names = "--pooling", description = "mean, cls or last (default: the model's)")
    String pooling;

    @Option(names = "--no-normalize", description = "do not scale vectors to length 1")
    boolean noNormalize;

    @Option(names = "--batch", defaultValue = "32", description = "inputs per forward pass (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: the machine's cores)")
    Integer threads;

    @Option(names = "--json", description = "one JSON object: model, dimensions, and per input its vector, token count and truncation")
    boolean json;

    @Option(names = {"-q", "--quiet"}, description = "no progress on stderr")
    boolean quiet;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1");
        if (threads != null && threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        Path file = resolve(model, quiet);
        List<String> inputs = new ArrayList<>(texts);
        if (inputs.isEmpty()) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) inputs.add(line);
        }
        EngineOptions options = threads == null ? EngineOptions.defaults() : EngineOptions.defaults().withThreads(threads);
        if (!BertEncoder.isEncoderFile(file)) {
            embedWithDecoder(file, inputs, options);
            return 0;
        }
        try (BertEncoder encoder = BertEncoder.load(file, options)) {
            BertEncoder.Pooling p = pooling == null ? encoder.defaultPooling() : parsePooling(pooling);
            Output out = new Output(encoder.dimension());
            for (int from = 0; from < inputs.size(); from += batch) {
                List<String> part = inputs.subList(from, Math.min(inputs.size(), from + batch));
                List<BertEncoder.Tokens> tokens = part.stream().map(encoder::tokenize).toList();
                float[][] vectors = encoder.embed(tokens.stream().map(BertEncoder.Tokens::ids).toList(), p, !noNormalize);
                for (int i = 0; i < vectors.length; i++) {
                    out.add(from + i, vectors[i], tokens.get(i).ids().length, tokens.get(i).truncated());
                }
            }
            out.finish();
        }
        return 0;
    }

    /** A text generation model embeds as llama.cpp's embedding mode does: mean (or last-token) pooling. */
    private void embedWithDecoder(Path file, List<String> inputs, EngineOptions options) throws Exception {
        Engine.Pooling p = switch (pooling == null ? "mean" : pooling.toLowerCase(Locale.ROOT)) {
            case "mean" -> Engine.Pooling.MEAN;
            case "last" -> Engine.Pooling.LAST;
            default -> throw new IllegalArgumentException("--pooling for a decoder model must be mean or last, not " + pooling);
        };
        try (Engine engine = Engine.load(file, options)) {
            Output out = new Output(engine.config().dim());
            int limit = engine.config().contextLength();
            for (int i = 0; i < inputs.size(); i++) {
                int[] ids = engine.tokenizer().encode(inputs.get(i), true, false);
                boolean truncated = ids.length > limit;
                if (truncated) ids = java.util.Arrays.copyOf(ids, limit);
                out.add(i, engine.embed(ids, p, !noNormalize), ids.length, truncated);
            }
            out.finish();
        }
    }

    /** Vectors as they come: a line of numbers each, or, with --json, one object at the end. */
    private final class Output {
        private final PrintWriter out = spec.commandLine().getOut();
        private final ObjectMapper mapper = new ObjectMapper();
        private final ObjectNode root;
        private final ArrayNode data;

        Output(int dimensions) {
            root = mapper.createObjectNode().put("model", model).put("dimensions", dimensions);
            data = root.putArray("data");
        }

        void add(int index, float[] vector, int tokens, boolean truncated) {
            if (json) {
                ArrayNode v = data.addObject().put("index", index).put("tokens", tokens).put("truncated", truncated).putArray("embedding");
                for (float f : vector) v.add(f);
            } else {
                StringBuilder sb = new StringBuilder();
                for (int j = 0; j < vector.length; j++) {
                    if (j > 0) sb.append(' ');
                    sb.append(vector[j]);
                }
                out.println(sb);
            }
            if (truncated && !quiet) spec.commandLine().getErr().printf("input %d was cut to %d tokens%n", index, tokens);
        }

        void finish() throws java.io.IOException {
            if (json) out.println(mapper.writeValueAsString(root));
            out.flush();
        }
    }

    static BertEncoder.Pooling parsePooling(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "mean" -> BertEncoder.Pooling.MEAN;
            case "cls" -> BertEncoder.Pooling.CLS;
            case "last" -> BertEncoder.Pooling.LAST;
            default -> throw new IllegalArgumentException("--pooling must be mean, cls or last, not " + s);
        };
    }

    /** A GGUF path, or a bundled model's name (converted on first use, with progress). */
    static Path resolve(String model, boolean quiet) throws java.io.IOException {
        Path p = Path.of(model);
        if (Files.isRegularFile(p)) return p;
        var bundled = BundledEmbeddingModels.gguf(model, new CliProgress(quiet));
        if (bundled.isPresent()) return bundled.get();
        throw new IllegalArgumentException("no model file " + model + " and no bundled embedding model of that name (bundled: "
                + BundledEmbeddingModels.names() + ")");
    }
}
