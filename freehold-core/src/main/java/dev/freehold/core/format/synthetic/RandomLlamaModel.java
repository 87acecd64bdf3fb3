package dev.freehold.core.format.synthetic;

import dev.freehold.core.format.convert.FileType;
import dev.freehold.core.format.convert.GgufConverter;
import dev.freehold.core.format.convert.QuantizationPolicy;
import dev.freehold.core.format.convert.TensorSource;
import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.format.gguf.GgufValueType;
import dev.freehold.core.model.GgufKeys;
import dev.freehold.core.model.TokenType;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.util.ProgressListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a Llama-architecture GGUF with random weights and real shapes, for tests and benchmarks: nothing can
 * be downloaded here, yet the engine, the quantisers and llama.cpp all need models of realistic size.
 *
 * <p>Weights are Gaussian with standard deviation 1/sqrt(row length), so activations keep a sane scale through
 * the layers; norms are 1. The vocabulary is SentencePiece-style: {@code <unk>}, {@code <s>}, {@code </s>}, the
 * 256 byte tokens, then synthetic pieces, so every text tokenises (by byte fallback at worst). Each weight is a
 * pure function of (seed, tensor name, index), so a file is reproducible and can be generated row by row.
 */
public final class RandomLlamaModel {

    /**
     * Shapes of a model to write. {@code ffn} is the feed-forward width; {@code tiedEmbeddings} omits output.weight;
     * {@code headDim} is the head size when it is not dim/heads (0: dim/heads), as in Gemma 2.
     */
    public record Shape(int dim, int ffn, int layers, int heads, int kvHeads, int vocab, int context, boolean tiedEmbeddings,
                        String architecture, int headDim) {
        /** The sliding window written for Gemma 2 models: small, so that short tests cross it. */
        public static final int GEMMA2_TEST_WINDOW = 24;

        public Shape(int dim, int ffn, int layers, int heads, int kvHeads, int vocab, int context, boolean tiedEmbeddings) {
            this(dim, ffn, layers, heads, kvHeads, vocab, context, tiedEmbeddings, "llama", 0);
        }

        public Shape(int dim, int ffn, int layers, int heads, int kvHeads, int vocab, int context, boolean tiedEmbeddings,
                     String architecture) {
            this(dim, ffn, layers, heads, kvHeads, vocab, context, tiedEmbeddings, architecture, 0);
        }

        /**
         * The same shape for another architecture: {@code llama}, {@code qwen2} (which adds Q/K/V biases) or
         * {@code gemma2} (post-norms, GeGLU, soft-capping, a sliding window of {@link #GEMMA2_TEST_WINDOW} on even
         * layers; embeddings always tied).
         */
        public Shape withArchitecture(String arch) {
            return new Shape(dim, ffn, layers, heads, kvHeads, vocab, context, tiedEmbeddings || arch.equals("gemma2"), arch, headDim);
        }

        /** The same shape with heads of {@code size} (so that heads * size may differ from the width). */
        public Shape withHeadDim(int size) {
            return new Shape(dim, ffn, layers, heads, kvHeads, vocab, context, tiedEmbeddings, architecture, size);
        }

        /** The head size. */
        public int headSize() {
            return headDim > 0 ? headDim : dim / heads;
        }

        public Shape {
            if (!architecture.equals("llama") && !architecture.equals("qwen2") && !architecture.equals("gemma2")) {
                throw new IllegalArgumentException("random models are llama, qwen2 or gemma2, not " + architecture);
            }
            String problem = null;
            if (dim <= 0 || ffn <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || context <= 0 || headDim < 0) {
                problem = "every size must be positive";
            } else if (headDim > 0 ? headDim % 2 != 0 : dim % heads != 0 || (dim / heads) % 2 != 0) {
                problem = "width %d does not split into %d heads of even size".formatted(dim, heads);
            } else if (architecture.equals("gemma2") && !tiedEmbeddings) {
                problem = "gemma2 ties its output to the embedding";
            } else if (heads % kvHeads != 0) {
                problem = "%d KV heads do not divide %d heads".formatted(kvHeads, heads);
            } else if (vocab < 260) {
                problem = "the vocabulary needs at least 260 tokens (3 special, 256 bytes, 1 more)";
            }
            if (problem != null) {
                throw new IllegalArgumentException("shape dim=%d ffn=%d layers=%d heads=%d kv_heads=%d vocab=%d: %s"
                        .formatted(dim, ffn, layers, heads, kvHeads, vocab, problem));
            }
        }

        /** Llama-3.2-1B's shape: 16 layers, width 2048, 32 heads, 8 KV heads, FFN 8192, vocabulary 128256, tied. */
        public static Shape llama32OneB() {
            return new Shape(2048, 8192, 16, 32, 8, 128256, 131072, true);
        }
    }

    private RandomLlamaModel() {
    }

    public static GgufConverter.Result write(Path out, Shape s, GgmlType type, long seed, ProgressListener progress) throws IOException {
        return write(out, s, type, seed, null, progress);
    }

    /**
     * As {@link #write(Path, Shape, GgmlType, long, ProgressListener)}, with a real vocabulary: {@code tokenizer}
     * holds {@code tokenizer.*} metadata (e.g. from a converted Hugging Face tokenizer) whose size must be the
     * shape's vocabulary size. Null means the synthetic vocabulary.
     */
    public static GgufConverter.Result write(Path out, Shape s, GgmlType type, long seed, Map<String, GgufValue> tokenizer,
                                             ProgressListener progress) throws IOException {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        String a = s.architecture();
        m.put(GgufKeys.ARCHITECTURE, GgufValue.ofString(a));
        m.put(GgufKeys.NAME, GgufValue.ofString("random-llama-%dx%d".formatted(s.layers(), s.dim())));
        m.put(GgufKeys.FILE_TYPE, GgufValue.ofUInt32(FileType.of(type)));
        m.put(a + ".context_length", GgufValue.ofUInt32(s.context()));
        m.put(a + ".embedding_length", GgufValue.ofUInt32(s.dim()));
        m.put(a + ".feed_forward_length", GgufValue.ofUInt32(s.ffn()));
        m.put(a + ".block_count", GgufValue.ofUInt32(s.layers()));
        m.put(a + ".attention.head_count", GgufValue.ofUInt32(s.heads()));
        m.put(a + ".attention.head_count_kv", GgufValue.ofUInt32(s.kvHeads()));
        m.put(a + ".rope.dimension_count", GgufValue.ofUInt32(s.headSize()));
        if (s.headDim() > 0 || a.equals("gemma2")) {
            m.put(a + ".attention.key_length", GgufValue.ofUInt32(s.headSize()));
            m.put(a + ".attention.value_length", GgufValue.ofUInt32(s.headSize()));
        }
        if (a.equals("gemma2")) {
            m.put(a + ".attention.sliding_window", GgufValue.ofUInt32(Shape.GEMMA2_TEST_WINDOW));
            m.put(a + ".attn_logit_softcapping", GgufValue.ofFloat32(50f));
            m.put(a + ".final_logit_softcapping", GgufValue.ofFloat32(30f));
        }
        m.put(a + ".rope.freq_base", GgufValue.ofFloat32(10000f));
        m.put(a + ".attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-5f));
        m.put(a + ".vocab_size", GgufValue.ofUInt32(s.vocab()));
        if (type.isQuantized()) m.put(GgufKeys.QUANTIZATION_VERSION, GgufValue.ofUInt32(2));
        if (tokenizer == null) {
            putVocabulary(m, s.vocab());
        } else {
            GgufValue tokens = tokenizer.get(GgufKeys.TOKENIZER_TOKENS);
            if (tokens == null || tokens.length() != s.vocab()) {
                throw new IllegalArgumentException("the tokenizer has %s tokens but the shape's vocabulary is %d"
                        .formatted(tokens == null ? "no" : tokens.length(), s.vocab()));
            }
            tokenizer.forEach((k, v) -> {
                if (k.startsWith("tokenizer.")) m.put(k, v);
            });
        }

        long d = s.dim();
        long qd = (long) s.headSize() * s.heads();
        long kv = (long) s.headSize() * s.kvHeads();
        List<TensorSource> t = new ArrayList<>();
        t.add(random("token_embd.weight", seed, d, s.vocab()));
        t.add(ones("output_norm.weight", d));
        if (!s.tiedEmbeddings()) t.add(random("output.weight", seed, d, s.vocab()));
        for (int l = 0; l < s.layers(); l++) {
            String p = "blk." + l + ".";
            t.add(random(p + "attn_q.weight", seed, d, qd));
            t.add(random(p + "attn_k.weight", seed, d, kv));
            t.add(random(p + "attn_v.weight", seed, d, kv));
            if (a.equals("qwen2")) {
                t.add(random(p + "attn_q.bias", seed, d));
                t.add(random(p + "attn_k.bias", seed, kv));
                t.add(random(p + "attn_v.bias", seed, kv));
            }
            t.add(random(p + "attn_output.weight", seed, qd, d));
            t.add(ones(p + "attn_norm.weight", d));
            if (a.equals("gemma2")) {
                t.add(ones(p + "post_attention_norm.weight", d));
                t.add(ones(p + "post_ffw_norm.weight", d));
            }
            t.add(random(p + "ffn_gate.weight", seed, d, s.ffn()));
            t.add(random(p + "ffn_down.weight", seed, s.ffn(), d));
            t.add(random(p + "ffn_up.weight", seed, d, s.ffn()));
            t.add(ones(p + "ffn_norm.weight", d));
        }
        return GgufConverter.write(out, m, t, new QuantizationPolicy(type), progress);
    }

    private static TensorSource random(String name, long seed, long... shape) {
        return new RandomTensor(name, seed, 1.0, shape);
    }

    private static TensorSource ones(String name, long... shape) {
        return new ConstantTensor(name, 1f, shape);
    }

    private static void putVocabulary(Map<String, GgufValue> m, int vocab) {
        String[] tokens = new String[vocab];
        float[] scores = new float[vocab];
        long[] types = new long[vocab];
        tokens[0] = "<unk>";
        types[0] = TokenType.UNKNOWN.id();
        tokens[1] = "<s>";
        types[1] = TokenType.CONTROL.id();
        tokens[2] = "</s>";
        types[2] = TokenType.CONTROL.id();
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = "<0x%02X>".formatted(b);
            types[3 + b] = TokenType.BYTE.id();
        }
        // Then printable ASCII characters and "▁"-prefixed letter pairs, then numbered filler pieces.
        int id = 259;
        for (char c = '!'; c <= '~' && id < vocab; c++) id = add(tokens, types, scores, id, String.valueOf(c));
        if (id < vocab) id = add(tokens, types, scores, id, "\u2581");
        for (char a = 'a'; a <= 'z' && id < vocab; a++) {
            for (char b = 'a'; b <= 'z' && id < vocab; b++) id = add(tokens, types, scores, id, "\u2581" + a + b);
        }
        for (int k = 0; id < vocab; k++) id = add(tokens, types, scores, id, "\u2581w" + k);
        m.put(GgufKeys.TOKENIZER_MODEL, GgufValue.ofString("llama"));
        m.put(GgufKeys.TOKENIZER_TOKENS, GgufValue.ofStrings(tokens));
        m.put(GgufKeys.TOKENIZER_SCORES, GgufValue.ofFloat32s(scores));
        m.put(GgufKeys.TOKENIZER_TOKEN_TYPE, GgufValue.ofInts(GgufValueType.INT32, types));
        m.put("tokenizer.ggml.bos_token_id", GgufValue.ofUInt32(1));
        m.put("tokenizer.ggml.eos_token_id", GgufValue.ofUInt32(2));
        m.put("tokenizer.ggml.unknown_token_id", GgufValue.ofUInt32(0));
        m.put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(true));
    }

    private static int add(String[] tokens, long[] types, float[] scores, int id, String piece) {
        tokens[id] = piece;
        types[id] = TokenType.NORMAL.id();
        scores[id] = -id;
        return id + 1;
    }

    /** Gaussian weights with std = scale / sqrt(row length), reproducible per (seed, name, row). */
    record RandomTensor(String name, long seed, double scale, long[] shape) implements TensorSource {
        @Override
        public GgmlType sourceType() {
            return GgmlType.F32;
        }

        @Override
        public void readRows(long firstRow, int count, float[] dst) {
            int n = Math.toIntExact(shape[0]);
            double std = scale / Math.sqrt(n);
            long nameHash = name.hashCode() * 0x9E3779B97F4A7C15L;
            for (int r = 0; r < count; r++) {
                SplittableRandom rnd = new SplittableRandom(seed ^ nameHash ^ ((firstRow + r) * 0xD1B54A32D192ED03L));
                for (int i = 0; i < n; i++) {
                    dst[r * n + i] = (float) (gaussian(rnd) * std);
                }
            }
        }

        private static double gaussian(SplittableRandom r) {
            // Box-Muller; SplittableRandom has no nextGaussian of its own in a reproducible form.
            double u = 1.0 - r.nextDouble();
            double v = r.nextDouble();
            return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
        }
    }

    record ConstantTensor(String name, float value, long[] shape) implements TensorSource {
        @Override
        public GgmlType sourceType() {
            return GgmlType.F32;
        }

        @Override
        public void readRows(long firstRow, int count, float[] dst) {
            java.util.Arrays.fill(dst, 0, Math.toIntExact(count * shape[0]), value);
        }
    }
}
