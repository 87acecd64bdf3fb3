package dev.freehold.core.model;

import dev.freehold.core.format.gguf.GgufValue;
import java.util.Map;

/**
 * The hyper-parameters of a decoder model, read from GGUF metadata and checked for consistency.
 *
 * @param contextLength  the length the model was trained for ({@code *.context_length})
 * @param ropeFreqBase   RoPE's base (theta)
 * @param queryScale     the factor on q·k before the softmax (1/sqrt(head size) for most models)
 * @param attnSoftcap    c in c * tanh(score / c) on attention scores, 0 for none (Gemma 2: 50)
 * @param finalSoftcap   the same on the output logits, 0 for none (Gemma 2: 30)
 * @param slidingWindow  attention sees only the last this many positions on sliding layers, 0 for no window
 *                       ({@code *.attention.sliding_window}: Mistral v0.1 on every layer, Gemma 2 on even layers)
 */
public record ModelConfig(Architecture architecture, int dim, int ffn, int layers, int heads, int kvHeads, int headDim, int vocab,
                          int contextLength, float rmsEps, float ropeFreqBase, int ropeDims, float queryScale, float attnSoftcap,
                          float finalSoftcap, int slidingWindow) {

    /** Whether layer {@code l} attends within the sliding window (Gemma 2 alternates, starting with sliding). */
    public boolean slidingLayer(int l) {
        if (slidingWindow == 0) return false;
        return architecture != Architecture.GEMMA2 || l % 2 == 0;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    public int qDim() {
        return heads * headDim;
    }

    /** Reads the config; the vocabulary size comes from the tokenizer or the embedding when the metadata lacks it. */
    public static ModelConfig from(Map<String, GgufValue> md, int vocabFallback) {
        String archName = string(md, GgufKeys.ARCHITECTURE);
        if (archName == null) throw new ModelConfigException("the model names no architecture (general.architecture)");
        Architecture arch = Architecture.byGgufName(archName).orElseThrow(() -> new ModelConfigException(
                "architecture '%s' is not supported; supported: %s".formatted(archName, Architecture.supportedNames())));
        String a = arch.ggufName();
        int dim = positive(md, a, GgufKeys.EMBEDDING_LENGTH, null);
        int layers = positive(md, a, GgufKeys.BLOCK_COUNT, null);
        int heads = positive(md, a, GgufKeys.HEAD_COUNT, null);
        int kvHeads = positive(md, a, GgufKeys.HEAD_COUNT_KV, heads);
        int ffn = positive(md, a, GgufKeys.FEED_FORWARD_LENGTH, null);
        Integer keyLength = md.containsKey(a + ".attention.key_length") ? positive(md, a, "attention.key_length", null) : null;
        int headDim = keyLength != null ? keyLength : dim / heads;
        if (keyLength == null && dim % heads != 0) throw new ModelConfigException("width %d does not split into %d heads".formatted(dim, heads));
        if (heads % kvHeads != 0) throw new ModelConfigException("%d KV heads do not divide %d heads".formatted(kvHeads, heads));
        if (headDim % 2 != 0) throw new ModelConfigException("head size " + headDim + " is odd; RoPE needs pairs");
        int ropeDims = positive(md, a, GgufKeys.ROPE_DIMENSION_COUNT, headDim);
        if (ropeDims > headDim || ropeDims % 2 != 0) throw new ModelConfigException("rope.dimension_count " + ropeDims + " does not fit head size " + headDim);
        int vocab = md.containsKey(a + "." + GgufKeys.VOCAB_SIZE) ? positive(md, a, GgufKeys.VOCAB_SIZE, null) : vocabFallback;
        int ctx = positive(md, a, GgufKeys.CONTEXT_LENGTH, 2048);
        float eps = (float) number(md, a + "." + GgufKeys.RMS_EPS, 1e-5);
        float base = (float) number(md, a + "." + GgufKeys.ROPE_FREQ_BASE, 10000.0);
        if (!(eps > 0) || !(base > 1)) throw new ModelConfigException("implausible rms epsilon %s or rope base %s".formatted(eps, base));
        float queryScale = (float) (1.0 / Math.sqrt(headDim));
        float attnSoftcap = 0f;
        float finalSoftcap = 0f;
        int window = md.containsKey(a + ".attention.sliding_window") ? positive(md, a, "attention.sliding_window", null) : 0;
        if (arch == Architecture.GEMMA2) {
            // as llama.cpp: the 27B (46 layers) scales queries by its width per head, the others by the head size
            if (layers == 46) queryScale = (float) (1.0 / Math.sqrt((float) (dim / heads)));
            attnSoftcap = (float) number(md, a + ".attn_logit_softcapping", 50.0);
            finalSoftcap = (float) number(md, a + ".final_logit_softcapping", 30.0);
            if (!(attnSoftcap > 0 && attnSoftcap < Float.POSITIVE_INFINITY) || !(finalSoftcap > 0 && finalSoftcap < Float.POSITIVE_INFINITY)) {
                throw new ModelConfigException("soft-capping values must be positive and finite, not %s and %s".formatted(attnSoftcap, finalSoftcap));
            }
            if (window == 0) window = 4096;
        }
        return new ModelConfig(arch, dim, ffn, layers, heads, kvHeads, headDim, vocab, ctx, eps, base, ropeDims, queryScale,
                attnSoftcap, finalSoftcap, window);
    }

    private static String string(Map<String, GgufValue> md, String key) {
        GgufValue v = md.get(key);
        return v != null && v.value() instanceof String s ? s : null;
    }

    private static double number(Map<String, GgufValue> md, String key, double fallback) {
        GgufValue v = md.get(key);
        return v == null || v.isArray() || v.value() instanceof String ? fallback : v.asDouble();
    }

    private static int positive(Map<String, GgufValue> md, String arch, String key, Integer fallback) {
        GgufValue v = md.get(arch + "." + key);
        if (v == null) {
            if (fallback == null) throw new ModelConfigException("metadata " + arch + "." + key + " is missing");
            return fallback;
        }
        long n = v.isArray() || v.value() instanceof String ? -1 : v.asLong();
        if (n <= 0 || n > (1 << 24)) throw new ModelConfigException("metadata %s.%s = %s is not a plausible size".formatted(arch, key, v.summary()));
        return (int) n;
    }

    /** A model whose metadata or tensors do not describe a runnable model. */
    public static final class ModelConfigException extends IllegalArgumentException {
        public ModelConfigException(String message) {
            super(message);
        }
    }
}
