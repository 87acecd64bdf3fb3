package dev.freehold.core.format.hf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.freehold.core.format.ImportedModel;
import dev.freehold.core.format.ModelFormatException;
import dev.freehold.core.format.convert.RowPermutedSource;
import dev.freehold.core.format.convert.SegmentTensorSource;
import dev.freehold.core.format.convert.TensorSource;
import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.format.safetensors.SafetensorsFile;
import dev.freehold.core.model.GgufKeys;
import dev.freehold.core.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Imports a Hugging Face model directory ({@code config.json}, {@code *.safetensors} with or without a shard index,
 * {@code tokenizer.json}, {@code tokenizer_config.json}) for the Llama, Mistral and Qwen2 architectures, with the
 * tensor names, metadata keys and Q/K layout that llama.cpp's {@code convert_hf_to_gguf.py} produces.
 */
public final class HfImporter {
    private static final long MAX_CONFIG_BYTES = 16L << 20;
    private static final long MAX_TOKENIZER_BYTES = 256L << 20;
    private static final Pattern LAYER_TENSOR = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
    private static final Map<String, String> LAYER_NAMES = Map.ofEntries(
            Map.entry("self_attn.q_proj.weight", "attn_q.weight"),
            Map.entry("self_attn.k_proj.weight", "attn_k.weight"),
            Map.entry("self_attn.v_proj.weight", "attn_v.weight"),
            Map.entry("self_attn.o_proj.weight", "attn_output.weight"),
            Map.entry("self_attn.q_proj.bias", "attn_q.bias"),
            Map.entry("self_attn.k_proj.bias", "attn_k.bias"),
            Map.entry("self_attn.v_proj.bias", "attn_v.bias"),
            Map.entry("mlp.gate_proj.weight", "ffn_gate.weight"),
            Map.entry("mlp.up_proj.weight", "ffn_up.weight"),
            Map.entry("mlp.down_proj.weight", "ffn_down.weight"),
            Map.entry("input_layernorm.weight", "attn_norm.weight"),
            Map.entry("post_attention_layernorm.weight", "ffn_norm.weight"));

    private HfImporter() {
    }

    public static boolean isModelDirectory(Path dir) {
        return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve("config.json"));
    }

    public static ImportedModel open(Path dir) throws IOException {
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new ModelFormatException(dir, "not a Hugging Face model directory (no config.json)");
        }
        JsonNode config = HfJson.read(configFile, MAX_CONFIG_BYTES);
        String hfArch = config.path("architectures").path(0).asText("");
        HfArchitecture arch = HfArchitecture.byHfName(hfArch).orElseThrow(() -> new ModelFormatException(configFile, "architectures", -1,
                "architecture '%s' is not supported; supported: %s".formatted(hfArch, HfArchitecture.supportedNames())));
        Hparams hp = Hparams.read(configFile, config);

        List<AutoCloseable> resources = new ArrayList<>();
        try {
            Map<String, SafetensorsFile.Tensor> weights = openWeights(dir, resources);
            List<String> notes = new ArrayList<>();
            Map<String, GgufValue> metadata = metadata(dir, arch, hp, config, notes);
            List<TensorSource> tensors = tensors(configFile, arch, hp, weights, notes);
            return new ImportedModel("Hugging Face (" + arch.hfName() + ")", metadata, tensors, notes, resources);
        } catch (RuntimeException | IOException e) {
            for (AutoCloseable r : resources) {
                try {
                    r.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** The hyper-parameters Freehold needs, validated. */
    record Hparams(int dim, int ffn, int layers, int heads, int kvHeads, int headDim, int vocab, int context,
                   double rmsEps, double ropeTheta, boolean tied, JsonNode ropeScaling) {
        static Hparams read(Path file, JsonNode c) {
            int dim = positive(file, c, "hidden_size");
            int heads = positive(file, c, "num_attention_heads");
            int kvHeads = c.has("num_key_value_heads") ? positive(file, c, "num_key_value_heads") : heads;
            int headDim = c.path("head_dim").isInt() ? positive(file, c, "head_dim") : dim / heads;
            if (heads % kvHeads != 0 || headDim % 2 != 0 || (!c.has("head_dim") && dim % heads != 0)) {
                throw new ModelFormatException(file, "num_attention_heads", -1, "%d heads, %d KV heads and width %d do not fit together"
                        .formatted(heads, kvHeads, dim));
            }
            return new Hparams(dim, positive(file, c, "intermediate_size"), positive(file, c, "num_hidden_layers"), heads, kvHeads,
                    headDim, positive(file, c, "vocab_size"), c.path("max_position_embeddings").asInt(4096),
                    c.path("rms_norm_eps").asDouble(1e-5), c.path("rope_theta").asDouble(10000.0),
                    c.path("tie_word_embeddings").asBoolean(false), c.path("rope_scaling"));
        }

        private static int positive(Path file, JsonNode c, String key) {
            JsonNode v = c.get(key);
            if (v == null || !v.canConvertToInt() || v.asInt() <= 0 || v.asInt() > (1 << 24)) {
                throw new ModelFormatException(file, key, -1, "missing or not a plausible positive integer: " + v);
            }
            return v.asInt();
        }
    }

    private static Map<String, SafetensorsFile.Tensor> openWeights(Path dir, List<AutoCloseable> resources) throws IOException {
        Set<Path> files = new LinkedHashSet<>();
        Path index = dir.resolve("model.safetensors.index.json");
        if (Files.isRegularFile(index)) {
            JsonNode map = HfJson.read(index, MAX_CONFIG_BYTES).path("weight_map");
            if (!map.isObject()) throw new ModelFormatException(index, "weight_map", -1, "missing or not an object");
            Set<String> names = new TreeSet<>();
            map.elements().forEachRemaining(v -> names.add(v.asText()));
            for (String n : names) {
                Path shard = dir.resolve(n).normalize();
                if (!shard.startsWith(dir.normalize()) || !Files.isRegularFile(shard)) {
                    throw new ModelFormatException(index, "weight_map", -1, "shard '" + n + "' is missing from " + dir);
                }
                files.add(shard);
            }
        } else {
            try (Stream<Path> s = Files.list(dir)) {
                s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().forEach(files::add);
            }
        }
        if (files.isEmpty()) {
            boolean pickle = Files.exists(dir.resolve("pytorch_model.bin")) || Files.exists(dir.resolve("pytorch_model.bin.index.json"));
            throw new ModelFormatException(dir, pickle
                    ? "only PyTorch pickle weights (pytorch_model.bin) found; Freehold reads safetensors only (pickles can run code)"
                    : "no *.safetensors weights found");
        }
        Map<String, SafetensorsFile.Tensor> all = new LinkedHashMap<>();
        for (Path f : files) {
            SafetensorsFile sf = SafetensorsFile.open(f);
            resources.add(sf);
            for (SafetensorsFile.Tensor t : sf.tensors().values()) {
                if (all.putIfAbsent(t.name(), t) != null) {
                    throw new ModelFormatException(f, "tensor '" + t.name() + "'", -1, "also present in another shard");
                }
            }
        }
        return all;
    }

    private static Map<String, GgufValue> metadata(Path dir, HfArchitecture arch, Hparams hp, JsonNode config, List<String> notes)
            throws IOException {
        String a = arch.ggufName();
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put(GgufKeys.ARCHITECTURE, GgufValue.ofString(a));
        m.put(GgufKeys.NAME, GgufValue.ofString(dir.toAbsolutePath().normalize().getFileName().toString()));
        m.put(GgufKeys.arch(a, GgufKeys.BLOCK_COUNT), GgufValue.ofUInt32(hp.layers()));
        m.put(GgufKeys.arch(a, GgufKeys.CONTEXT_LENGTH), GgufValue.ofUInt32(hp.context()));
        m.put(GgufKeys.arch(a, GgufKeys.EMBEDDING_LENGTH), GgufValue.ofUInt32(hp.dim()));
        m.put(GgufKeys.arch(a, GgufKeys.FEED_FORWARD_LENGTH), GgufValue.ofUInt32(hp.ffn()));
        m.put(GgufKeys.arch(a, GgufKeys.HEAD_COUNT), GgufValue.ofUInt32(hp.heads()));
        m.put(GgufKeys.arch(a, GgufKeys.HEAD_COUNT_KV), GgufValue.ofUInt32(hp.kvHeads()));
        m.put(GgufKeys.arch(a, GgufKeys.ROPE_FREQ_BASE), GgufValue.ofFloat32((float) hp.ropeTheta()));
        m.put(GgufKeys.arch(a, GgufKeys.RMS_EPS), GgufValue.ofFloat32((float) hp.rmsEps()));
        if (hp.headDim() != hp.dim() / hp.heads()) {
            m.put(GgufKeys.arch(a, "attention.key_length"), GgufValue.ofUInt32(hp.headDim()));
            m.put(GgufKeys.arch(a, "attention.value_length"), GgufValue.ofUInt32(hp.headDim()));
        }
        m.put(GgufKeys.arch(a, GgufKeys.VOCAB_SIZE), GgufValue.ofUInt32(hp.vocab()));
        // Mistral v0.1 attends within 4096 positions; later versions say null. llama.cpp ignores the key for the
        // llama architecture (it matters only beyond 4096 tokens); Freehold honours it.
        JsonNode window = config.path("sliding_window");
        if (window.canConvertToInt() && window.asInt() > 0) {
            m.put(GgufKeys.arch(a, "attention.sliding_window"), GgufValue.ofUInt32(window.asInt()));
            notes.add("sliding_window %d written as %s.attention.sliding_window (llama.cpp ignores it for this architecture)"
                    .formatted(window.asInt(), a));
        }
        m.put(GgufKeys.arch(a, GgufKeys.ROPE_DIMENSION_COUNT), GgufValue.ofUInt32(hp.headDim()));
        String ropeType = hp.ropeScaling().path("rope_type").asText(hp.ropeScaling().path("type").asText(""));
        if (ropeType.equals("linear")) {
            m.put(GgufKeys.arch(a, "rope.scaling.type"), GgufValue.ofString("linear"));
            m.put(GgufKeys.arch(a, "rope.scaling.factor"), GgufValue.ofFloat32((float) hp.ropeScaling().path("factor").asDouble(1)));
        } else if (!ropeType.isEmpty() && !ropeType.equals("llama3") && !ropeType.equals("default")) {
            throw new ModelFormatException(dir.resolve("config.json"), "rope_scaling", -1, "rope scaling '" + ropeType
                    + "' is not supported yet (supported: linear, llama3)");
        }
        m.put(GgufKeys.FILE_TYPE, GgufValue.ofUInt32(0));

        Path tokFile = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(tokFile)) {
            JsonNode tok = HfJson.read(tokFile, MAX_TOKENIZER_BYTES);
            Path tcFile = dir.resolve("tokenizer_config.json");
            JsonNode tc = Files.isRegularFile(tcFile) ? HfJson.read(tcFile, MAX_CONFIG_BYTES) : HfJson.MAPPER.createObjectNode();
            HfTokenizerConverter.Result r = HfTokenizerConverter.convert(tokFile, tok, tc, config, hp.vocab());
            m.putAll(r.metadata());
            notes.addAll(r.notes());
        } else {
            notes.add("no tokenizer.json: the GGUF has no vocabulary and cannot tokenize text");
        }
        return m;
    }

    private static List<TensorSource> tensors(Path configFile, HfArchitecture arch, Hparams hp, Map<String, SafetensorsFile.Tensor> weights,
                                              List<String> notes) {
        List<TensorSource> out = new ArrayList<>();
        Map<String, SafetensorsFile.Tensor> remaining = new LinkedHashMap<>(weights);
        remaining.keySet().removeIf(n -> n.endsWith("rotary_emb.inv_freq"));
        out.add(take(remaining, "model.embed_tokens.weight", "token_embd.weight", configFile));
        out.add(take(remaining, "model.norm.weight", "output_norm.weight", configFile));
        if (remaining.containsKey("lm_head.weight")) {
            out.add(take(remaining, "lm_head.weight", "output.weight", configFile));
        } else if (!hp.tied()) {
            notes.add("no lm_head.weight although tie_word_embeddings is false: the output layer reuses the embedding");
        }
        float[] ropeFactors = llama3RopeFactors(hp);
        if (ropeFactors != null) {
            out.add(new SegmentTensorSource("rope_freqs.weight", new long[] {ropeFactors.length}, GgmlType.F32,
                    MemorySegment.ofArray(GgmlType.F32.codec().orElseThrow().quantize(ropeFactors))));
        }
        for (int layer = 0; layer < hp.layers(); layer++) {
            String prefix = "model.layers." + layer + ".";
            List<String> names = new ArrayList<>();
            for (String k : remaining.keySet()) if (k.startsWith(prefix)) names.add(k);
            names.sort(null);
            for (String hfName : names) {
                Matcher mt = LAYER_TENSOR.matcher(hfName);
                String suffix = mt.matches() ? mt.group(2) : "";
                String ggufSuffix = LAYER_NAMES.get(suffix);
                if (ggufSuffix == null) continue;
                TensorSource t = take(remaining, hfName, "blk." + layer + "." + ggufSuffix, configFile);
                if (arch.permuteQk() && suffix.startsWith("self_attn.q_proj")) {
                    t = RowPermutedSource.ropeInterleave(t, hp.heads());
                } else if (arch.permuteQk() && suffix.startsWith("self_attn.k_proj")) {
                    t = RowPermutedSource.ropeInterleave(t, hp.kvHeads());
                }
                out.add(t);
            }
        }
        if (!remaining.isEmpty()) {
            Iterator<String> it = remaining.keySet().iterator();
            throw new ModelFormatException(configFile, "weights", -1, "%d tensors have no GGUF counterpart, e.g. '%s'"
                    .formatted(remaining.size(), it.next()));
        }
        return out;
    }

    private static TensorSource take(Map<String, SafetensorsFile.Tensor> remaining, String hfName, String ggufName, Path file) {
        SafetensorsFile.Tensor t = remaining.remove(hfName);
        if (t == null) throw new ModelFormatException(file, "weights", -1, "tensor '" + hfName + "' is missing");
        return new SegmentTensorSource(ggufName, t.ggmlShape(), t.ggmlType(), t.data());
    }

    /** Llama 3.1's frequency factors (rope_scaling.rope_type = llama3), as llama.cpp's converter computes them. */
    static float[] llama3RopeFactors(Hparams hp) {
        JsonNode rs = hp.ropeScaling();
        if (!"llama3".equals(rs.path("rope_type").asText())) return null;
        double factor = rs.path("factor").asDouble(8.0);
        double lowFreqFactor = rs.path("low_freq_factor").asDouble(1.0);
        double highFreqFactor = rs.path("high_freq_factor").asDouble(4.0);
        double oldContext = rs.path("original_max_position_embeddings").asDouble(8192);
        double lowFreqWavelen = oldContext / lowFreqFactor;
        double highFreqWavelen = oldContext / highFreqFactor;
        int dim = hp.headDim();
        float[] factors = new float[dim / 2];
        for (int i = 0; i < dim / 2; i++) {
            // torch computes the frequencies in float32: base ** (arange(0, dim, 2) / dim)
            float exponent = (float) (2 * i) / dim;
            float freq = (float) (1.0 / (float) Math.pow(hp.ropeTheta(), exponent));
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highFreqWavelen) {
                factors[i] = 1;
            } else if (wavelen > lowFreqWavelen) {
                factors[i] = (float) factor;
            } else {
                double smooth = (oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                factors[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return factors;
    }
}
