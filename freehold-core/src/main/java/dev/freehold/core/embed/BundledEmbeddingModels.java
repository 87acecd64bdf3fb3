package dev.freehold.core.embed;

import dev.freehold.core.format.ImportedModel;
import dev.freehold.core.format.convert.GgufConverter;
import dev.freehold.core.format.convert.QuantizationPolicy;
import dev.freehold.core.format.onnx.OnnxBertImporter;
import dev.freehold.core.util.ProgressListener;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Embedding models that ship with Freehold, with no download: their weights come from Apache-2.0 artifacts on the
 * class path (LangChain4j's packaging of sentence-transformers models, ONNX and {@code tokenizer.json}). On first use
 * a model is converted to GGUF under {@code $FREEHOLD_HOME/models/} (default {@code ~/.freehold}); later uses load
 * that file. No ONNX runtime is involved: the ONNX file is only read for its weights.
 */
public final class BundledEmbeddingModels {
    private BundledEmbeddingModels() {
    }

    /** A bundled model: where its files are on the class path and what the weights do not say. */
    public record Bundled(String name, String onnxResource, String tokenizerResource, OnnxBertImporter.Hyper hyper) {
    }

    private static final Map<String, Bundled> MODELS = new TreeMap<>(Map.of(
            "all-minilm", new Bundled("all-minilm", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json",
                    new OnnxBertImporter.Hyper("all-MiniLM-L6-v2", 12, 1e-12f, OnnxBertImporter.Pooling.MEAN))));

    /** The default embedding model's name. */
    public static final String DEFAULT = "all-minilm";

    public static java.util.Set<String> names() {
        return MODELS.keySet();
    }

    /** Whether the named model's files are on the class path. */
    public static boolean available(String name) {
        Bundled b = MODELS.get(name);
        return b != null && BundledEmbeddingModels.class.getClassLoader().getResource(b.onnxResource()) != null;
    }

    /** {@code $FREEHOLD_HOME}, or the system property {@code freehold.home} (tests), or {@code ~/.freehold}. */
    public static Path home() {
        String p = System.getProperty("freehold.home");
        if (p != null && !p.isBlank()) return Path.of(p);
        String h = System.getenv("FREEHOLD_HOME");
        return h != null && !h.isBlank() ? Path.of(h) : Path.of(System.getProperty("user.home"), ".freehold");
    }

    /**
     * The GGUF file of a bundled model, converting it on first use (with progress).
     *
     * @return empty when no bundled model has this name
     */
    public static Optional<Path> gguf(String name, ProgressListener progress) throws IOException {
        Bundled b = MODELS.get(name);
        if (b == null) return Optional.empty();
        Path dir = home().resolve("models");
        Path out = dir.resolve(name + ".gguf");
        if (Files.isRegularFile(out)) return Optional.of(out);
        ClassLoader cl = BundledEmbeddingModels.class.getClassLoader();
        if (cl.getResource(b.onnxResource()) == null) {
            throw new IOException("the bundled model '" + name + "' is not on the class path (" + b.onnxResource() + ")");
        }
        Files.createDirectories(dir);
        Path work = Files.createTempDirectory(dir, "." + name + "-");
        try {
            Path onnx = extract(cl, b.onnxResource(), work.resolve("model.onnx"));
            Path tok = extract(cl, b.tokenizerResource(), work.resolve("tokenizer.json"));
            Path tmp = work.resolve(name + ".gguf");
            try (ImportedModel m = OnnxBertImporter.open(onnx, tok, b.hyper())) {
                GgufConverter.write(tmp, m.metadata(), m.tensors(), QuantizationPolicy.keepSourceTypes(), progress);
            }
            // Another process may have finished first: either file is the same model.
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return Optional.of(out);
        } finally {
            try (var s = Files.list(work)) {
                for (Path p : s.toList()) Files.deleteIfExists(p);
            }
            Files.deleteIfExists(work);
        }
    }

    private static Path extract(ClassLoader cl, String resource, Path to) throws IOException {
        try (InputStream in = cl.getResourceAsStream(resource)) {
            if (in == null) throw new IOException("resource " + resource + " is missing");
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
        return to;
    }
}
