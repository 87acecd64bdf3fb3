package dev.freehold.core.format.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.freehold.core.format.ImportedModel;
import dev.freehold.core.format.ModelFormatException;
import dev.freehold.core.format.convert.FileType;
import dev.freehold.core.format.convert.SegmentTensorSource;
import dev.freehold.core.format.convert.TensorSource;
import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.format.hf.HfTokenizerConverter;
import dev.freehold.core.model.GgufKeys;
import dev.freehold.core.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A BERT encoder exported to ONNX by PyTorch (as sentence-transformers models are) with its {@code tokenizer.json},
 * as llama.cpp's {@code bert} architecture: the same tensor names and metadata its converter writes, so the result
 * loads in Freehold and in llama.cpp alike.
 *
 * <p>PyTorch's exporter keeps the names of embeddings, biases and norms, but the projection matrices become anonymous
 * {@code MatMul} inputs stored (in, out). Each is named from the graph: the {@code Add} that follows its
 * {@code MatMul} adds a named bias, and the matrix is that bias's weight. Matrices are transposed to (out, in) rows.
 */
public final class OnnxBertImporter {
    private OnnxBertImporter() {
    }

    /** What the weights do not say: the head count, the norm epsilon and how the sentence embedding is pooled. */
    public record Hyper(String name, int heads, float layerNormEps, Pooling pooling) {
    }

    /** llama.cpp's {@code pooling_type} values. */
    public enum Pooling {
        NONE(0), MEAN(1), CLS(2), LAST(3);

        public final int id;

        Pooling(int id) {
            this.id = id;
        }
    }

    /** Freehold's own metadata key: the most tokens one input may have, when less than the context. */
    public static final String MAX_INPUT_TOKENS = "freehold.max_input_tokens";

    private static final Pattern LAYER = Pattern.compile("encoder\\.layer\\.(\\d+)\\.(.+)");
    private static final Map<String, String> LAYER_NAMES = Map.ofEntries(
            Map.entry("attention.self.query.weight", "attn_q.weight"), Map.entry("attention.self.query.bias", "attn_q.bias"),
            Map.entry("attention.self.key.weight", "attn_k.weight"), Map.entry("attention.self.key.bias", "attn_k.bias"),
            Map.entry("attention.self.value.weight", "attn_v.weight"), Map.entry("attention.self.value.bias", "attn_v.bias"),
            Map.entry("attention.output.dense.weight", "attn_output.weight"), Map.entry("attention.output.dense.bias", "attn_output.bias"),
            Map.entry("attention.output.LayerNorm.weight", "attn_output_norm.weight"),
            Map.entry("attention.output.LayerNorm.bias", "attn_output_norm.bias"),
            Map.entry("intermediate.dense.weight", "ffn_up.weight"), Map.entry("intermediate.dense.bias", "ffn_up.bias"),
            Map.entry("output.dense.weight", "ffn_down.weight"), Map.entry("output.dense.bias", "ffn_down.bias"),
            Map.entry("output.LayerNorm.weight", "layer_output_norm.weight"), Map.entry("output.LayerNorm.bias", "layer_output_norm.bias"));
    private static final Map<String, String> EMBEDDING_NAMES = Map.of(
            "embeddings.word_embeddings.weight", "token_embd.weight",
            "embeddings.position_embeddings.weight", "position_embd.weight",
            "embeddings.token_type_embeddings.weight", "token_types.weight",
            "embeddings.LayerNorm.weight", "token_embd_norm.weight",
            "embeddings.LayerNorm.bias", "token_embd_norm.bias");

    /** The GGUF name of a Hugging Face BERT parameter (with or without a {@code bert.} prefix), or null. */
    static String ggufName(String hfName) {
        String n = hfName.startsWith("bert.") ? hfName.substring(5) : hfName;
        String e = EMBEDDING_NAMES.get(n);
        if (e != null) return e;
        Matcher m = LAYER.matcher(n);
        if (m.matches()) {
            String rest = LAYER_NAMES.get(m.group(2));
            if (rest != null) return "blk." + m.group(1) + "." + rest;
        }
        return null;
    }

    public static ImportedModel open(Path onnx, Path tokenizerJson, Hyper hyper) throws IOException {
        JsonNode tokenizer = new ObjectMapper().readTree(tokenizerJson.toFile());
        OnnxFile f = OnnxFile.open(onnx);
        try {
            return build(f, tokenizerJson, tokenizer, hyper);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    private static ImportedModel build(OnnxFile f, Path tokenizerJson, JsonNode tokenizer, Hyper hyper) {
        Map<String, OnnxFile.Tensor> inits = f.initializers();
        // Name the anonymous MatMul weights after the bias their Add applies.
        Map<String, String> producedBy = new HashMap<>(); // MatMul output -> weight initializer
        for (OnnxFile.Node n : f.nodes()) {
            if (n.opType().equals("MatMul") && n.inputs().size() == 2 && inits.containsKey(n.inputs().get(1)) && n.outputs().size() == 1) {
                producedBy.put(n.outputs().getFirst(), n.inputs().get(1));
            }
        }
        Map<String, OnnxFile.Tensor> named = new LinkedHashMap<>();
        for (OnnxFile.Tensor t : inits.values()) {
            if (ggufName(t.name()) != null) named.put(t.name(), t);
        }
        Map<String, OnnxFile.Tensor> matrices = new LinkedHashMap<>();
        for (OnnxFile.Node n : f.nodes()) {
            if (!n.opType().equals("Add") || n.inputs().size() != 2) continue;
            for (int side = 0; side < 2; side++) {
                String weight = producedBy.get(n.inputs().get(side));
                String bias = n.inputs().get(1 - side);
                if (weight != null && bias.endsWith(".bias") && named.containsKey(bias)) {
                    matrices.put(bias.substring(0, bias.length() - 5) + ".weight", inits.get(weight));
                }
            }
        }
        OnnxFile.Tensor words = require(f, named, "embeddings.word_embeddings.weight");
        OnnxFile.Tensor positions = require(f, named, "embeddings.position_embeddings.weight");
        if (words.dims().length != 2 || positions.dims().length != 2) throw new ModelFormatException(f.path(), "embeddings are not matrices");
        int vocab = Math.toIntExact(words.dims()[0]);
        int dim = Math.toIntExact(words.dims()[1]);
        int context = Math.toIntExact(positions.dims()[0]);
        int layers = 0;
        while (named.containsKey("encoder.layer." + layers + ".attention.self.query.bias")) layers++;
        if (layers == 0) throw new ModelFormatException(f.path(), "no encoder layers found: not a BERT model");
        OnnxFile.Tensor up = require(f, named, "encoder.layer.0.intermediate.dense.bias");
        int ffn = Math.toIntExact(up.dims()[0]);
        if (dim % hyper.heads() != 0) throw new ModelFormatException(f.path(), "width %d is not divisible by %d heads".formatted(dim, hyper.heads()));

        List<TensorSource> tensors = new ArrayList<>();
        for (Map.Entry<String, OnnxFile.Tensor> e : named.entrySet()) tensors.add(direct(f, ggufName(e.getKey()), e.getValue()));
        for (int l = 0; l < layers; l++) {
            for (String m : List.of("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                    "intermediate.dense", "output.dense")) {
                String hf = "encoder.layer." + l + "." + m + ".weight";
                OnnxFile.Tensor t = matrices.get(hf);
                if (t == null) throw new ModelFormatException(f.path(), "no MatMul feeds the bias of " + hf.replace(".weight", ".bias"));
                tensors.add(transposed(f, ggufName(hf), t));
            }
        }

        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put(GgufKeys.ARCHITECTURE, GgufValue.ofString("bert"));
        md.put(GgufKeys.NAME, GgufValue.ofString(hyper.name()));
        md.put(GgufKeys.FILE_TYPE, GgufValue.ofUInt32(FileType.of(GgmlType.F32)));
        md.put("bert.context_length", GgufValue.ofUInt32(context));
        md.put("bert.embedding_length", GgufValue.ofUInt32(dim));
        md.put("bert.feed_forward_length", GgufValue.ofUInt32(ffn));
        md.put("bert.block_count", GgufValue.ofUInt32(layers));
        md.put("bert.attention.head_count", GgufValue.ofUInt32(hyper.heads()));
        md.put("bert.attention.layer_norm_epsilon", GgufValue.ofFloat32(hyper.layerNormEps()));
        md.put("bert.attention.causal", GgufValue.ofBool(false));
        md.put("bert.pooling_type", GgufValue.ofUInt32(hyper.pooling().id));
        // The length the tokenizer truncates to (what the model was trained and exported with), when shorter than
        // the position table: inputs are cut there, as sentence-transformers and ONNX users of this tokenizer do.
        int truncation = tokenizer.path("truncation").path("max_length").asInt(0);
        if (truncation > 1 && truncation < context) md.put(MAX_INPUT_TOKENS, GgufValue.ofUInt32(truncation));
        md.put("tokenizer.ggml.token_type_count", GgufValue.ofUInt32(named.containsKey("embeddings.token_type_embeddings.weight")
                ? inits.get("embeddings.token_type_embeddings.weight").dims()[0] : 1));
        HfTokenizerConverter.Result tok = HfTokenizerConverter.convert(tokenizerJson, tokenizer, new ObjectMapper().createObjectNode(),
                new ObjectMapper().createObjectNode(), vocab);
        md.putAll(tok.metadata());
        List<String> notes = new ArrayList<>(tok.notes());
        notes.add("ONNX from %s: %d layers, width %d, %d heads, context %d, %s pooling".formatted(
                f.producer().isEmpty() ? "an unknown exporter" : f.producer(), layers, dim, hyper.heads(), context,
                hyper.pooling().name().toLowerCase(java.util.Locale.ROOT)));
        return new ImportedModel("ONNX", md, tensors, notes, List.of(f));
    }

    private static OnnxFile.Tensor require(OnnxFile f, Map<String, OnnxFile.Tensor> named, String name) {
        OnnxFile.Tensor t = named.get(name);
        if (t == null) throw new ModelFormatException(f.path(), "no initializer '" + name + "': not a BERT model exported from PyTorch");
        return t;
    }

    private static void checkFloat(OnnxFile f, OnnxFile.Tensor t) {
        if (t.dataType() != OnnxFile.FLOAT) {
            throw new ModelFormatException(f.path(), "initializer '%s' has element type %d; only float32 weights are read".formatted(t.name(), t.dataType()));
        }
        if (t.data().byteSize() != t.elements() * 4) throw new ModelFormatException(f.path(), "initializer '" + t.name() + "' has no data");
    }

    /** A tensor whose row-major layout is already GGUF's: ONNX dims reversed. */
    private static TensorSource direct(OnnxFile f, String name, OnnxFile.Tensor t) {
        checkFloat(f, t);
        long[] shape = new long[t.dims().length];
        for (int i = 0; i < shape.length; i++) shape[i] = t.dims()[shape.length - 1 - i];
        return new SegmentTensorSource(name, shape, GgmlType.F32, t.data());
    }

    /** An ONNX (in, out) matrix as GGUF rows of length {@code in}, one per output. */
    private static TensorSource transposed(OnnxFile f, String name, OnnxFile.Tensor t) {
        checkFloat(f, t);
        if (t.dims().length != 2) throw new ModelFormatException(f.path(), "MatMul weight '" + t.name() + "' is not a matrix");
        long in = t.dims()[0];
        long out = t.dims()[1];
        MemorySegment data = t.data();
        return new TensorSource() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public long[] shape() {
                return new long[] {in, out};
            }

            @Override
            public GgmlType sourceType() {
                return GgmlType.F32;
            }

            @Override
            public void readRows(long firstRow, int count, float[] dst) {
                for (int r = 0; r < count; r++) {
                    long o = firstRow + r;
                    for (long i = 0; i < in; i++) {
                        dst[(int) (r * in + i)] = data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i * out + o);
                    }
                }
            }
        };
    }
}
