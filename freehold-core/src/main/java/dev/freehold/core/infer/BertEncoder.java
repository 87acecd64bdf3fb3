package dev.freehold.core.infer;

import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.kernel.Matrix;
import dev.freehold.core.kernel.VectorMath;
import dev.freehold.core.kernel.TransposedF32;
import dev.freehold.core.kernel.WorkerPool;
import dev.freehold.core.model.ModelConfig.ModelConfigException;
import dev.freehold.core.tokenizer.Tokenizer;
import dev.freehold.core.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * A BERT-family encoder (llama.cpp's {@code bert} architecture) that turns texts into sentence embeddings: absolute
 * position and token-type embeddings, post-LayerNorm blocks of bidirectional attention and a GELU feed-forward
 * network, then pooling over the tokens (mean, CLS or last) and optional L2 normalisation. Inputs of a batch are
 * packed without padding: every matrix product runs over all their tokens at once, and each token attends only to
 * the tokens of its own input (which is what a padding mask achieves).
 */
public final class BertEncoder implements AutoCloseable {
    /** How token states become one vector: llama.cpp's pooling types. */
    public enum Pooling { MEAN, CLS, LAST }

    /** Tokens per matrix-product call: activations for this many rows are allocated once. */
    static final int ROWS = 64;

    private final GgufFile file;
    private final Tokenizer tokenizer;
    private final WorkerPool pool;
    private final int dim;
    private final int ffn;
    private final int layers;
    private final int heads;
    private final int context;
    private final int maxTokens;
    private final int typeCount;
    private final float eps;
    private final Pooling defaultPooling;
    private final Matrix tokenEmbedding;
    private final Matrix positionEmbedding;
    private final Matrix typeEmbedding;
    private final float[] embNormW;
    private final float[] embNormB;
    private final Layer[] blocks;

    record Layer(TransposedF32 wq, float[] bq, TransposedF32 wk, float[] bk, TransposedF32 wv, float[] bv, TransposedF32 wo, float[] bo,
                 float[] attnNormW, float[] attnNormB, TransposedF32 up, float[] bUp, TransposedF32 down, float[] bDown,
                 float[] outNormW, float[] outNormB) {
    }

    private BertEncoder(GgufFile f, Tokenizer tokenizer, EngineOptions options) {
        this.file = f;
        this.tokenizer = tokenizer;
        Map<String, GgufValue> md = f.metadata();
        String arch = md.containsKey("general.architecture") ? String.valueOf(md.get("general.architecture").value()) : "?";
        if (!arch.equals("bert")) {
            throw new ModelConfigException("'" + arch + "' is not an encoder architecture that Freehold embeds with (supported: bert)");
        }
        dim = intKey(md, "bert.embedding_length");
        ffn = intKey(md, "bert.feed_forward_length");
        layers = intKey(md, "bert.block_count");
        heads = intKey(md, "bert.attention.head_count");
        context = intKey(md, "bert.context_length");
        if (dim <= 0 || ffn <= 0 || layers <= 0 || heads <= 0 || context <= 1 || dim % heads != 0 || dim > 1 << 16 || ffn > 1 << 18
                || layers > 1024 || context > 1 << 20) {
            throw new ModelConfigException("implausible BERT shape: width %d, ffn %d, %d layers, %d heads, context %d"
                    .formatted(dim, ffn, layers, heads, context));
        }
        GgufValue mt = md.get(dev.freehold.core.format.onnx.OnnxBertImporter.MAX_INPUT_TOKENS);
        maxTokens = mt != null && mt.value() instanceof Number n && n.longValue() > 1 && n.longValue() < context ? n.intValue() : context;
        GgufValue e = md.get("bert.attention.layer_norm_epsilon");
        eps = e == null ? 1e-12f : ((Number) e.value()).floatValue();
        GgufValue pt = md.get("bert.pooling_type");
        int poolingId = pt == null ? 1 : ((Number) pt.value()).intValue();
        defaultPooling = switch (poolingId) {
            case 2 -> Pooling.CLS;
            case 3 -> Pooling.LAST;
            default -> Pooling.MEAN;
        };
        int vocab = tokenizer.vocabulary().size();
        tokenEmbedding = Weights.matrix(f, "token_embd.weight", vocab, dim);
        positionEmbedding = Weights.matrix(f, "position_embd.weight", context, dim);
        typeCount = f.tensor("token_types.weight").map(t -> (int) t.dim(1)).orElse(0);
        typeEmbedding = typeCount > 0 ? Weights.matrix(f, "token_types.weight", typeCount, dim) : null;
        embNormW = Weights.vector(f, "token_embd_norm.weight", dim);
        embNormB = Weights.vector(f, "token_embd_norm.bias", dim);
        blocks = new Layer[layers];
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            blocks[l] = new Layer(
                    new TransposedF32(Weights.matrix(f, p + "attn_q.weight", dim, dim)), Weights.vector(f, p + "attn_q.bias", dim),
                    new TransposedF32(Weights.matrix(f, p + "attn_k.weight", dim, dim)), Weights.vector(f, p + "attn_k.bias", dim),
                    new TransposedF32(Weights.matrix(f, p + "attn_v.weight", dim, dim)), Weights.vector(f, p + "attn_v.bias", dim),
                    new TransposedF32(Weights.matrix(f, p + "attn_output.weight", dim, dim)), Weights.vector(f, p + "attn_output.bias", dim),
                    Weights.vector(f, p + "attn_output_norm.weight", dim), Weights.vector(f, p + "attn_output_norm.bias", dim),
                    new TransposedF32(Weights.matrix(f, p + "ffn_up.weight", ffn, dim)), Weights.vector(f, p + "ffn_up.bias", ffn),
                    new TransposedF32(Weights.matrix(f, p + "ffn_down.weight", dim, ffn)), Weights.vector(f, p + "ffn_down.bias", dim),
                    Weights.vector(f, p + "layer_output_norm.weight", dim), Weights.vector(f, p + "layer_output_norm.bias", dim));
        }
        this.pool = new WorkerPool(options.threads());
    }

    private static int intKey(Map<String, GgufValue> md, String key) {
        GgufValue v = md.get(key);
        if (v == null || !(v.value() instanceof Number n)) throw new ModelConfigException("metadata '" + key + "' is missing");
        long x = n.longValue();
        if (x < 0 || x > Integer.MAX_VALUE) throw new ModelConfigException("metadata '" + key + "' is out of range: " + x);
        return (int) x;
    }

    /** Whether a GGUF file holds an architecture this encoder runs (and not a text generation model). */
    public static boolean isEncoderFile(Path path) throws IOException {
        try (GgufFile f = GgufFile.open(path)) {
            GgufValue arch = f.metadata().get("general.architecture");
            return arch != null && "bert".equals(String.valueOf(arch.value()));
        }
    }

    public static BertEncoder load(Path path, EngineOptions options) throws IOException {
        GgufFile f = GgufFile.open(path);
        try {
            return new BertEncoder(f, Tokenizers.fromGguf(f), options);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The embedding's length. */
    public int dimension() {
        return dim;
    }

    /** The most tokens (with CLS and SEP) one input may have: the context, or less if the model says so. */
    public int maxTokens() {
        return maxTokens;
    }

    public Pooling defaultPooling() {
        return defaultPooling;
    }

    public Path path() {
        return file.path();
    }

    /** A text's token ids with CLS and SEP, cut to the context (keeping the final SEP) if longer. */
    public record Tokens(int[] ids, boolean truncated) {
    }

    public Tokens tokenize(String text) {
        int[] ids = tokenizer.encode(text, true, false);
        if (ids.length <= maxTokens) return new Tokens(ids, false);
        int[] cut = Arrays.copyOf(ids, maxTokens);
        cut[maxTokens - 1] = ids[ids.length - 1];
        return new Tokens(cut, true);
    }

    /**
     * Embeds inputs given as token ids (CLS ... SEP, as {@link #tokenize} gives them), all in one batch.
     *
     * @return one vector per input, of {@link #dimension()} values
     */
    public float[][] embed(List<int[]> inputs, Pooling pooling, boolean normalize) {
        for (int[] in : inputs) {
            if (in.length == 0) throw new IllegalArgumentException("an input has no tokens");
            if (in.length > context) throw new IllegalArgumentException("an input has %d tokens; the model takes at most %d".formatted(in.length, context));
            for (int t : in) {
                if (t < 0 || t >= tokenizer.vocabulary().size()) throw new IllegalArgumentException("token id " + t + " is outside the vocabulary");
            }
        }
        // Activations take about (6 * width + ffn) floats per token: a request's inputs run in groups of bounded
        // size, whatever their number. Each input's result does not depend on its group (see the class comment).
        float[][] out = new float[inputs.size()][];
        int from = 0;
        while (from < inputs.size()) {
            int to = from;
            int tokens = 0;
            while (to < inputs.size() && (to == from || tokens + inputs.get(to).length <= MAX_GROUP_TOKENS)) tokens += inputs.get(to++).length;
            float[][] part = embedGroup(inputs.subList(from, to), pooling, normalize);
            System.arraycopy(part, 0, out, from, part.length);
            from = to;
        }
        return out;
    }

    /** Tokens run through the layers together at most (an input longer than this runs alone). */
    public static final int MAX_GROUP_TOKENS = 4096;

    private float[][] embedGroup(List<int[]> inputs, Pooling pooling, boolean normalize) {
        int total = 0;
        for (int[] in : inputs) total += in.length;
        float[][] x = new float[total][dim];
        int[] start = new int[inputs.size() + 1];
        float[] type0 = new float[dim];
        if (typeEmbedding != null) typeEmbedding.row(0, type0);
        float[] pos = new float[dim];
        int k = 0;
        for (int i = 0; i < inputs.size(); i++) {
            start[i] = k;
            int[] in = inputs.get(i);
            for (int p = 0; p < in.length; p++, k++) {
                tokenEmbedding.row(in[p], x[k]);
                positionEmbedding.row(p, pos);
                for (int j = 0; j < dim; j++) x[k][j] += pos[j] + type0[j];
                layerNorm(x[k], embNormW, embNormB);
            }
        }
        start[inputs.size()] = total;
        float[][] q = new float[total][dim];
        float[][] kk = new float[total][dim];
        float[][] v = new float[total][dim];
        float[][] att = new float[total][dim];
        float[][] proj = new float[total][dim];
        float[][] hidden = new float[total][ffn];
        for (Layer L : blocks) {
            linear(L.wq(), L.bq(), x, q, total);
            linear(L.wk(), L.bk(), x, kk, total);
            linear(L.wv(), L.bv(), x, v, total);
            attention(q, kk, v, att, start, inputs.size());
            linear(L.wo(), L.bo(), att, proj, total);
            for (int t = 0; t < total; t++) {
                for (int j = 0; j < dim; j++) x[t][j] += proj[t][j];
                layerNorm(x[t], L.attnNormW(), L.attnNormB());
            }
            linear(L.up(), L.bUp(), x, hidden, total);
            pool.parallelFor(total, (a, b) -> {
                for (int t = a; t < b; t++) geluInPlace(hidden[t]);
            });
            linear(L.down(), L.bDown(), hidden, proj, total);
            for (int t = 0; t < total; t++) {
                for (int j = 0; j < dim; j++) x[t][j] += proj[t][j];
                layerNorm(x[t], L.outNormW(), L.outNormB());
            }
        }
        float[][] out = new float[inputs.size()][dim];
        for (int i = 0; i < inputs.size(); i++) {
            int a = start[i];
            int b = start[i + 1];
            switch (pooling) {
                case CLS -> System.arraycopy(x[a], 0, out[i], 0, dim);
                case LAST -> System.arraycopy(x[b - 1], 0, out[i], 0, dim);
                case MEAN -> {
                    double[] sum = new double[dim];
                    for (int t = a; t < b; t++) for (int j = 0; j < dim; j++) sum[j] += x[t][j];
                    for (int j = 0; j < dim; j++) out[i][j] = (float) (sum[j] / (b - a));
                }
            }
            if (normalize) normalizeL2(out[i]);
        }
        return out;
    }

    /** out = in W^T + bias, over rows in chunks of {@link #ROWS} (the activations of a chunk stay in cache). */
    private void linear(TransposedF32 w, float[] bias, float[][] in, float[][] out, int rows) {
        for (int from = 0; from < rows; from += ROWS) {
            int n = Math.min(ROWS, rows - from);
            float[][] xs = from == 0 && n == in.length ? in : Arrays.copyOfRange(in, from, from + n);
            float[][] ys = from == 0 && n == out.length ? out : Arrays.copyOfRange(out, from, from + n);
            w.multiply(xs, ys, n, pool);
        }
        for (int t = 0; t < rows; t++) {
            float[] o = out[t];
            for (int j = 0; j < bias.length; j++) o[j] += bias[j];
        }
    }

    /**
     * Bidirectional multi-head attention of each input's tokens over that input's tokens only. Per (input, head) the
     * keys are transposed once, so that scores and the weighted sum of values are both runs of multiply-adds over
     * contiguous arrays, which the JIT vectorises.
     */
    private void attention(float[][] q, float[][] k, float[][] v, float[][] out, int[] start, int inputs) {
        int headDim = dim / heads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        pool.parallelFor(inputs * heads, (a, b) -> {
            float[] keysT = new float[headDim * context];
            float[] scores = new float[context];
            float[] acc = new float[headDim];
            float[] lanes = new float[16];
            for (int item = a; item < b; item++) {
                int in = item / heads;
                int off = (item % heads) * headDim;
                int s0 = start[in];
                int len = start[in + 1] - s0;
                for (int u = 0; u < len; u++) {
                    float[] ku = k[s0 + u];
                    for (int j = 0; j < headDim; j++) keysT[j * len + u] = ku[off + j];
                }
                int bound = F.loopBound(len);
                int hb = F.loopBound(headDim);
                for (int t = s0; t < s0 + len; t++) {
                    float[] qt = q[t];
                    // Scores sixteen keys at a time, the sum over the head's dimensions kept in a register.
                    int u = 0;
                    for (; u < bound; u += F.length()) {
                        FloatVector sc = FloatVector.zero(F);
                        for (int j = 0; j < headDim; j++) {
                            sc = FloatVector.fromArray(F, keysT, j * len + u).fma(FloatVector.broadcast(F, qt[off + j]), sc);
                        }
                        sc.mul(scale).intoArray(scores, u);
                    }
                    for (; u < len; u++) {
                        float dot = 0f;
                        for (int j = 0; j < headDim; j++) dot += qt[off + j] * keysT[j * len + u];
                        scores[u] = dot * scale;
                    }
                    float max = Float.NEGATIVE_INFINITY;
                    for (u = 0; u < len; u++) max = Math.max(max, scores[u]);
                    // VectorMath's exponential rather than VectorOperators.EXP, whose compiled and interpreted
                    // results differ in the last bit: the same input must give the same vector at any time.
                    float inv = 1f / VectorMath.expShifted(scores, 0, len, max, lanes);
                    // The weighted sum of values, sixteen dimensions at a time in a register.
                    int j = 0;
                    for (; j < hb; j += F.length()) {
                        FloatVector a0 = FloatVector.zero(F);
                        for (u = 0; u < len; u++) a0 = FloatVector.fromArray(F, v[s0 + u], off + j).fma(FloatVector.broadcast(F, scores[u]), a0);
                        a0.mul(inv).intoArray(acc, j);
                    }
                    for (; j < headDim; j++) {
                        float a0 = 0f;
                        for (u = 0; u < len; u++) a0 += scores[u] * v[s0 + u][off + j];
                        acc[j] = a0 * inv;
                    }
                    System.arraycopy(acc, 0, out[t], off, headDim);
                }
            }
        });
    }

    private void layerNorm(float[] x, float[] w, float[] b) {
        double mean = 0;
        for (float f : x) mean += f;
        mean /= x.length;
        double var = 0;
        for (float f : x) var += (f - mean) * (f - mean);
        var /= x.length;
        float inv = (float) (1.0 / Math.sqrt(var + eps));
        float m = (float) mean;
        for (int j = 0; j < x.length; j++) x[j] = (x[j] - m) * inv * w[j] + b[j];
    }

    private static final jdk.incubator.vector.VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** {@link #gelu} over an array, sixteen (or eight) values at a time, with the same error-function fit in float. */
    static void geluInPlace(float[] h) {
        int bound = F.loopBound(h.length);
        float[] e = GELU_SCRATCH.get();
        if (e.length < bound) {
            e = new float[bound];
            GELU_SCRATCH.set(e);
        }
        // First the exponent of the error function's fit for every value, then one pass of VectorMath's exponential
        // (not VectorOperators.EXP, whose compiled and interpreted results differ in the last bit), then the rest.
        for (int i = 0; i < bound; i += F.length()) {
            var z = FloatVector.fromArray(F, h, i).mul((float) (1 / Math.sqrt(2))).abs();
            var t = FloatVector.broadcast(F, 1f).div(z.mul(0.5f).add(1f));
            var poly = t.mul(0.17087277f).add(-0.82215223f).mul(t).add(1.48851587f).mul(t).add(-1.13520398f).mul(t).add(0.27886807f)
                    .mul(t).add(-0.18628806f).mul(t).add(0.09678418f).mul(t).add(0.37409196f).mul(t).add(1.00002368f).mul(t).add(-1.26551223f);
            z.mul(z).neg().add(poly).intoArray(e, i);
        }
        VectorMath.expShifted(e, 0, bound, 0f, GELU_LANES.get());
        for (int i = 0; i < bound; i += F.length()) {
            var x = FloatVector.fromArray(F, h, i);
            var z = x.mul((float) (1 / Math.sqrt(2))).abs();
            var t = FloatVector.broadcast(F, 1f).div(z.mul(0.5f).add(1f));
            var erfAbs = t.mul(FloatVector.fromArray(F, e, i)).neg().add(1f);
            var erf = erfAbs.blend(erfAbs.neg(), x.lt(0f));
            x.mul(0.5f).mul(erf.add(1f)).intoArray(h, i);
        }
        for (int i = bound; i < h.length; i++) h[i] = gelu(h[i]);
    }

    private static final ThreadLocal<float[]> GELU_SCRATCH = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> GELU_LANES = ThreadLocal.withInitial(() -> new float[16]);

    /** GELU as BERT defines it: x * Phi(x), with the exact error function. */
    static float gelu(float x) {
        return (float) (0.5 * x * (1.0 + erf(x / Math.sqrt(2.0))));
    }

    /**
     * The error function to double precision's needs here (absolute error below 1.2e-7, as Numerical Recipes' erfc
     * Chebyshev fit): far below the float rounding of the activations it is applied to.
     */
    static double erf(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1.0 - r : r - 1.0;
    }

    static void normalizeL2(float[] v) {
        double s = 0;
        for (float f : v) s += (double) f * f;
        if (s == 0) return;
        float inv = (float) (1.0 / Math.sqrt(s));
        for (int j = 0; j < v.length; j++) v[j] *= inv;
    }

    @Override
    public void close() {
        pool.close();
        file.close();
    }
}
