package dev.freehold.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.freehold.core.format.ImportedModel;
import dev.freehold.core.format.ModelImporter;
import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.model.ModelSummary;
import dev.freehold.core.tensor.GgmlType;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Describe a model: architecture, size, shapes, tokenizer, tensor types and all metadata.",
                "MODEL is a .gguf file or a Hugging Face model directory (config.json + *.safetensors)."},
        footer = {"", "Examples:", "  freehold inspect model.gguf", "  freehold inspect --json --sha256 model.gguf | jq .parameters"})
final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "a .gguf file or a Hugging Face model directory")
    Path model;

    @Option(names = "--json", description = "print one JSON object instead of text")
    boolean json;

    @Option(names = "--sha256", description = "also compute the file's SHA-256 (reads the whole file)")
    boolean sha256;

    @Option(names = "--tensors", description = "list every tensor (text output; JSON always lists them)")
    boolean listTensors;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ModelSummary s;
        long fileSize;
        if (ModelImporter.detect(model) == ModelImporter.Kind.GGUF) {
            try (GgufFile f = GgufFile.open(model)) {
                s = ModelSummary.of(f);
                fileSize = f.fileSize();
            }
        } else {
            try (ImportedModel m = ModelImporter.open(model, null)) {
                s = ModelSummary.of(m);
            }
            fileSize = directorySize(model);
        }
        String digest = sha256 && Files.isRegularFile(model) ? sha256(model) : null;
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(toJson(s, fileSize, digest));
        } else {
            printText(out, s, fileSize, digest);
        }
        out.flush();
        return 0;
    }

    private void printText(PrintWriter out, ModelSummary s, long fileSize, String digest) {
        String fmt = "%-14s %s%n";
        out.printf(fmt, "file", model + " (" + Sizes.bytes(fileSize) + ", " + s.format() + ")");
        out.printf(fmt, "architecture", s.architecture());
        if (s.name() != null) out.printf(fmt, "name", s.name());
        out.printf(fmt, "parameters", Sizes.count(s.parameters()) + " (" + s.parameters() + ")");
        out.printf(fmt, "context", orDash(s.contextLength()));
        out.printf(fmt, "embedding", orDash(s.embeddingLength()));
        out.printf(fmt, "layers", orDash(s.blockCount()));
        out.printf(fmt, "heads", orDash(s.headCount()) + " (KV heads " + orDash(s.headCountKv()) + ")");
        out.printf(fmt, "feed-forward", orDash(s.feedForwardLength()));
        out.printf(fmt, "vocabulary", orDash(s.vocabSize()) + " tokens, " + s.tokenizerKind());
        out.printf(fmt, "chat template", s.hasChatTemplate() ? "yes" : "no");
        if (digest != null) out.printf(fmt, "sha256", digest);
        out.printf(fmt, "tensors", s.tensors().size() + " (" + Sizes.bytes(s.tensorBytes()) + ")");
        for (Map.Entry<GgmlType, ModelSummary.TypeStats> e : s.tensorTypes().entrySet()) {
            out.printf("  %-8s %5d tensors  %12s%n", e.getKey().displayName(), e.getValue().count(), Sizes.bytes(e.getValue().bytes()));
        }
        if (listTensors) {
            for (ModelSummary.TensorEntry t : s.tensors()) {
                out.printf("  %-40s %-6s %s%n", t.name(), t.type().displayName(), java.util.Arrays.toString(t.shape()));
            }
        }
        out.printf("metadata (%d keys)%n", s.metadata().size());
        for (Map.Entry<String, GgufValue> e : s.metadata().entrySet()) {
            out.printf("  %s = %s%n", e.getKey(), e.getValue().summary());
        }
    }

    private static String orDash(Long v) {
        return v == null ? "-" : v.toString();
    }

    private String toJson(ModelSummary s, long fileSize, String digest) throws IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode o = mapper.createObjectNode();
        o.put("file", model.toString());
        o.put("format", s.format());
        o.put("architecture", s.architecture());
        o.put("name", s.name());
        o.put("parameters", s.parameters());
        o.put("context_length", s.contextLength());
        o.put("embedding_length", s.embeddingLength());
        o.put("block_count", s.blockCount());
        o.put("head_count", s.headCount());
        o.put("head_count_kv", s.headCountKv());
        o.put("feed_forward_length", s.feedForwardLength());
        o.put("vocab_size", s.vocabSize());
        ObjectNode tok = o.putObject("tokenizer");
        tok.put("model", s.tokenizerModel());
        tok.put("pre", s.tokenizerPre());
        tok.put("kind", s.tokenizerKind());
        o.put("chat_template", s.hasChatTemplate());
        o.put("file_size", fileSize);
        if (digest != null) o.put("sha256", digest);
        ObjectNode types = o.putObject("tensor_types");
        s.tensorTypes().forEach((t, st) -> types.putObject(t.name()).put("count", st.count()).put("bytes", st.bytes()));
        ArrayNode tensors = o.putArray("tensors");
        for (ModelSummary.TensorEntry t : s.tensors()) {
            ObjectNode tn = tensors.addObject();
            tn.put("name", t.name());
            tn.put("type", t.type().name());
            ArrayNode shape = tn.putArray("shape");
            for (long d : t.shape()) shape.add(d);
        }
        ObjectNode md = o.putObject("metadata");
        for (Map.Entry<String, GgufValue> e : s.metadata().entrySet()) md.set(e.getKey(), JsonValues.of(mapper, e.getValue()));
        return mapper.writeValueAsString(o);
    }

    private static long directorySize(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
