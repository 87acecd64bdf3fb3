package dev.freehold.core.infer;

import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.kernel.AttentionKernel;
import dev.freehold.core.kernel.Matrix;
import dev.freehold.core.kernel.WorkerPool;
import dev.freehold.core.model.Architecture;
import dev.freehold.core.model.ModelConfig;
import dev.freehold.core.tensor.Bits;
import dev.freehold.core.tokenizer.Tokenizer;
import dev.freehold.core.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Runs a decoder model: one forward pass over the shared blocks (RMSNorm, RoPE, grouped-query attention with a
 * KV cache, SwiGLU or GeGLU), the architecture's differences taken from {@link Architecture} and
 * {@link ModelConfig} (RoPE pairing, QKV biases, post-norms, embedding scale, soft-capping, sliding windows) and the
 * weights' types from their kernels. The same pass serves one token, a prompt chunk and a batch of sequences.
 * Weights stay memory-mapped; activation buffers are allocated once.
 *
 * <p>One forward runs at a time per engine (callers serialise; the server's scheduler will batch into it).
 */
public final class Engine implements AutoCloseable {
    private final GgufFile file;
    private final ModelConfig config;
    private final Weights w;
    private final Tokenizer tokenizer;
    private final WorkerPool pool;
    private final boolean kvF16;

    // Activations, allocated once: shapes in comments.
    private final float[] xb;     // (dim,) the final normed hidden state of a token whose logits are wanted
    private final float[] logits; // (vocab,)
    private final float[] ropeCos;
    private final float[] ropeSin;
    private final ThreadLocal<float[]> scoreScratch = ThreadLocal.withInitial(() -> new float[256]);
    private final ThreadLocal<float[]> laneScratch = ThreadLocal.withInitial(() -> new float[16]);
    private final Sequence[] chunkSequences = new Sequence[CHUNK]; // a single sequence's chunk, filled per forward
    private final int[] chunkTokens = new int[CHUNK];
    private final int[] chunkPositions = new int[CHUNK];
    private final boolean[] chunkPrompts = new boolean[CHUNK];
    private final Products products = new Products();
    private final float[][] promptIn = new float[CHUNK][];
    private final float[][] promptOut = new float[CHUNK][];
    private final float[][] decodeIn = new float[CHUNK][];
    private final float[][] decodeOut = new float[CHUNK][];

    /** Tokens per forward chunk: weight matrices are read once per chunk. */
    static final int CHUNK = 32;
    private final float[][] bx;   // (CHUNK, dim) residual streams of a chunk
    private final float[][] bxb;  // (CHUNK, dim)
    private final float[][] bxb2; // (CHUNK, dim)
    private final float[][] bq;   // (CHUNK, qDim)
    private final float[][] bk;   // (CHUNK, kvDim)
    private final float[][] bv;   // (CHUNK, kvDim)
    private final float[][] batt; // (CHUNK, qDim)
    private final float[][] bhb;  // (CHUNK, ffn)
    private final float[][] bhb2; // (CHUNK, ffn)
    private final float[][] bcos; // (CHUNK, ropeDims/2)
    private final float[][] bsin; // (CHUNK, ropeDims/2)

    private Engine(GgufFile file, ModelConfig config, Weights w, Tokenizer tokenizer, EngineOptions options) {
        this.file = file;
        this.config = config;
        this.w = w;
        this.tokenizer = tokenizer;
        this.pool = new WorkerPool(options.threads());
        this.kvF16 = options.kvCache() == EngineOptions.KvCacheType.F16;
        xb = new float[config.dim()];
        logits = new float[config.vocab()];
        ropeCos = new float[config.ropeDims() / 2];
        ropeSin = new float[config.ropeDims() / 2];
        bx = new float[CHUNK][config.dim()];
        bxb = new float[CHUNK][config.dim()];
        bxb2 = new float[CHUNK][config.dim()];
        bq = new float[CHUNK][config.qDim()];
        bk = new float[CHUNK][config.kvDim()];
        bv = new float[CHUNK][config.kvDim()];
        batt = new float[CHUNK][config.qDim()];
        bhb = new float[CHUNK][config.ffn()];
        bhb2 = new float[CHUNK][config.ffn()];
        bcos = new float[CHUNK][config.ropeDims() / 2];
        bsin = new float[CHUNK][config.ropeDims() / 2];
    }

    /** Loads a GGUF model with default options but {@code threads} workers. */
    public static Engine load(Path path, int threads) throws IOException {
        return load(path, EngineOptions.defaults().withThreads(threads));
    }

    /** Loads a GGUF model. */
    public static Engine load(Path path, EngineOptions options) throws IOException {
        GgufFile f = GgufFile.open(path);
        try {
            Tokenizer tok = Tokenizers.fromGguf(f);
            int vocab = tok.vocabulary().size();
            ModelConfig c = ModelConfig.from(f.metadata(), vocab);
            if (c.vocab() != vocab) {
                throw new ModelConfig.ModelConfigException("the vocabulary has %d tokens but the model %d".formatted(vocab, c.vocab()));
            }
            return new Engine(f, c, new Weights(f, c), tok, options);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return config;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public Path path() {
        return file.path();
    }

    /** The model file's metadata (architecture, tokenizer, chat template, ...). */
    public java.util.Map<String, dev.freehold.core.format.gguf.GgufValue> metadata() {
        return file.metadata();
    }

    /** A new, empty sequence able to hold {@code capacity} positions (at most the model's context length). */
    public Sequence newSequence(int capacity) {
        if (capacity < 1 || capacity > config.contextLength()) {
            throw new IllegalArgumentException("a sequence holds 1 to %d positions (the model's context), not %d"
                    .formatted(config.contextLength(), capacity));
        }
        return new Sequence(config.layers(), capacity, config.kvDim());
    }

    /**
     * Appends tokens to the sequence and returns the logits after the last one. The returned array is the engine's
     * buffer, overwritten by the next call.
     */
    public float[] forward(Sequence s, int... tokens) {
        return forward(s, false, tokens);
    }

    /**
     * {@link #forward(Sequence, int...)} for tokens of a prompt (text given rather than generated one token at a
     * time): the weight products run as matrix-matrix products over each chunk (see {@code Matrix.matmulPrompt}),
     * much faster for many tokens. A prompt token's numbers depend only on the token and its sequence, not on how the
     * prompt is chunked or batched, but differ from decoding the same token by float rounding order.
     */
    public float[] forwardPrompt(Sequence s, int... tokens) {
        return forward(s, true, tokens);
    }

    private float[] forward(Sequence s, boolean prompt, int... tokens) {
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens to run");
        if (s.length + tokens.length > s.capacity) {
            throw new IllegalArgumentException("%d more tokens do not fit: the sequence holds %d of %d positions"
                    .formatted(tokens.length, s.length, s.capacity));
        }
        for (int t : tokens) {
            if (t < 0 || t >= config.vocab()) throw new IllegalArgumentException("token id " + t + " is outside the vocabulary");
        }
        for (int from = 0; from < tokens.length; from += CHUNK) {
            int n = appendChunk(s, tokens, from, prompt);
            if (from + n == tokens.length) outputLogits(bx[n - 1]);
        }
        return logits;
    }

    /**
     * One entry of a batch: tokens to append to a sequence, whether the logits after the last one are wanted (a
     * prompt chunk that is not the prompt's last needs none, which saves the output matrix: often the largest), and
     * whether the tokens are a prompt's (see {@link #forwardPrompt}) or generated ones.
     */
    public record BatchEntry(Sequence sequence, int[] tokens, boolean wantLogits, boolean prompt) {
        /** Generated tokens (decode arithmetic), logits wanted. */
        public BatchEntry(Sequence sequence, int[] tokens) {
            this(sequence, tokens, true, false);
        }
    }

    /**
     * Runs several sequences in one pass (continuous batching): every weight matrix is read once for all the tokens
     * of the batch. Returns, per entry, a copy of the logits after its last token. Each entry's results are
     * bit-identical to running it alone, since every token's arithmetic is the same in both cases. Entries that want
     * no logits get {@code null}.
     */
    public List<float[]> forward(List<BatchEntry> batch) {
        if (batch.isEmpty()) throw new IllegalArgumentException("an empty batch");
        int total = 0;
        java.util.Set<Sequence> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (BatchEntry e : batch) {
            if (!seen.add(e.sequence())) throw new IllegalArgumentException("a sequence appears twice in one batch");
            if (e.tokens().length == 0) throw new IllegalArgumentException("a batch entry has no tokens");
            if (e.sequence().length + e.tokens().length > e.sequence().capacity) {
                throw new IllegalArgumentException("%d more tokens do not fit: the sequence holds %d of %d positions"
                        .formatted(e.tokens().length, e.sequence().length, e.sequence().capacity));
            }
            for (int t : e.tokens()) {
                if (t < 0 || t >= config.vocab()) throw new IllegalArgumentException("token id " + t + " is outside the vocabulary");
            }
            total += e.tokens().length;
        }
        // Flatten into (sequence, token, position) triples and run them in chunks.
        Sequence[] seqs = new Sequence[total];
        int[] toks = new int[total];
        int[] positions = new int[total];
        boolean[] prompts = new boolean[total];
        int[] lastIndex = new int[batch.size()];
        int k = 0;
        for (int b = 0; b < batch.size(); b++) {
            BatchEntry e = batch.get(b);
            for (int i = 0; i < e.tokens().length; i++, k++) {
                seqs[k] = e.sequence();
                toks[k] = e.tokens()[i];
                positions[k] = e.sequence().length + i;
                prompts[k] = e.prompt();
            }
            lastIndex[b] = k - 1;
        }
        List<float[]> out = new java.util.ArrayList<>(java.util.Collections.nCopies(batch.size(), (float[]) null));
        for (int from = 0; from < total; from += CHUNK) {
            int n = Math.min(CHUNK, total - from);
            chunk(seqs, toks, positions, prompts, from, n);
            for (int b = 0; b < batch.size(); b++) {
                int li = lastIndex[b];
                if (li >= from && li < from + n && batch.get(b).wantLogits()) {
                    outputLogits(bx[li - from]);
                    out.set(b, logits.clone());
                }
            }
        }
        for (BatchEntry e : batch) e.sequence().append(e.tokens(), 0, e.tokens().length);
        return out;
    }

    /**
     * Tokens through every layer together, each of its own sequence at its own position: each weight matrix is read
     * once for the chunk (matrix-matrix), K and V are cached first, then each token attends to its sequence's cache up
     * to its own position. Leaves the final hidden states in {@code bx}.
     */
    private void chunk(Sequence[] seqs, int[] tokens, int[] positions, boolean[] prompts, int from, int n) {
        ModelConfig c = config;
        Architecture arch = c.architecture();
        int dim = c.dim();
        float embeddingScale = arch.scaledEmbedding() ? (float) Math.sqrt(dim) : 1f;
        for (int t = 0; t < n; t++) {
            w.tokenEmbedding.row(tokens[from + t], bx[t]);
            if (embeddingScale != 1f) for (int i = 0; i < dim; i++) bx[t][i] *= embeddingScale;
            ropeAngles(positions[from + t]);
            System.arraycopy(ropeCos, 0, bcos[t], 0, ropeCos.length);
            System.arraycopy(ropeSin, 0, bsin[t], 0, ropeSin.length);
        }
        int maxPos = 0;
        for (int t = 0; t < n; t++) maxPos = Math.max(maxPos, positions[from + t]);
        int promptCount = 0;
        for (int t = 0; t < n; t++) if (prompts[from + t]) promptCount++;
        Products mm = products.set(prompts, from, n, promptCount);
        int scoreLength = maxPos + 1;
        for (int l = 0; l < c.layers(); l++) {
            Weights.Layer L = w.layers[l];
            for (int t = 0; t < n; t++) rmsnorm(bxb[t], bx[t], L.attnNorm(), c.rmsEps());
            mm.run(L.wq(), bxb, bq);
            mm.run(L.wk(), bxb, bk);
            mm.run(L.wv(), bxb, bv);
            for (int t = 0; t < n; t++) {
                if (L.bq() != null) {
                    add(bq[t], L.bq());
                    add(bk[t], L.bk());
                    add(bv[t], L.bv());
                }
                rope(bq[t], c.heads(), bcos[t], bsin[t]);
                rope(bk[t], c.kvHeads(), bcos[t], bsin[t]);
                cache(seqs[from + t], l, positions[from + t], bk[t], bv[t]);
            }
            int layer = l;
            int window = c.slidingLayer(l) ? c.slidingWindow() : 0;
            pool.parallelFor(n * c.heads(), (a, b) -> {
                float[] sc = scoreScratch.get();
                if (sc.length < scoreLength) {
                    sc = new float[Math.max(scoreLength, 2 * sc.length)];
                    scoreScratch.set(sc);
                }
                float[] lanes = laneScratch.get();
                for (int i = a; i < b; i++) {
                    int t = i / c.heads();
                    attendHead(seqs[from + t], layer, positions[from + t], window, i % c.heads(), bq[t], batt[t], sc, lanes);
                }
            });
            mm.run(L.wo(), batt, bxb2);
            for (int t = 0; t < n; t++) {
                if (L.attnPostNorm() != null) rmsnorm(bxb2[t], bxb2[t], L.attnPostNorm(), c.rmsEps());
                for (int i = 0; i < dim; i++) bx[t][i] += bxb2[t][i];
                rmsnorm(bxb[t], bx[t], L.ffnNorm(), c.rmsEps());
            }
            mm.run(L.gate(), bxb, bhb);
            mm.run(L.up(), bxb, bhb2);
            boolean gelu = arch.geluGate();
            for (int t = 0; t < n; t++) {
                float[] g = bhb[t];
                float[] u = bhb2[t];
                if (gelu) {
                    for (int i = 0; i < c.ffn(); i++) g[i] = geluAsGgml(g[i]) * u[i];
                } else {
                    for (int i = 0; i < c.ffn(); i++) g[i] = g[i] / (1f + (float) Math.exp(-g[i])) * u[i];
                }
            }
            mm.run(L.down(), bhb, bxb2);
            for (int t = 0; t < n; t++) {
                if (L.ffnPostNorm() != null) rmsnorm(bxb2[t], bxb2[t], L.ffnPostNorm(), c.rmsEps());
                for (int i = 0; i < dim; i++) bx[t][i] += bxb2[t][i];
            }
        }
    }

    /**
     * Runs up to {@link #CHUNK} tokens from {@code tokens[from]} at the sequence's next positions and appends them;
     * the final hidden states are left in {@code bx}. Returns how many ran.
     */
    private int appendChunk(Sequence s, int[] tokens, int from, boolean prompt) {
        int n = Math.min(CHUNK, tokens.length - from);
        for (int t = 0; t < n; t++) {
            chunkSequences[t] = s;
            chunkTokens[t] = tokens[from + t];
            chunkPositions[t] = s.length + t;
            chunkPrompts[t] = prompt;
        }
        chunk(chunkSequences, chunkTokens, chunkPositions, chunkPrompts, 0, n);
        Arrays.fill(chunkSequences, 0, n, null); // do not keep the sequence (and its cache) reachable
        s.append(tokens, from, n);
        return n;
    }

    /** How {@link #embed} pools the tokens' final hidden states. */
    public enum Pooling { MEAN, LAST }

    /**
     * A text embedding from this decoder, as llama.cpp's embedding mode gives it: the tokens run through every layer
     * (causal attention, in a sequence of their own), each final hidden state goes through the output norm, and the
     * states are averaged (MEAN) or the last one taken (LAST); {@code normalize} scales the result to length 1.
     */
    public float[] embed(int[] tokens, Pooling pooling, boolean normalize) {
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens to embed");
        if (tokens.length > config.contextLength()) {
            throw new IllegalArgumentException("%d tokens exceed the model's context of %d".formatted(tokens.length, config.contextLength()));
        }
        for (int t : tokens) {
            if (t < 0 || t >= config.vocab()) throw new IllegalArgumentException("token id " + t + " is outside the vocabulary");
        }
        Sequence s = newSequence(tokens.length);
        int dim = config.dim();
        double[] sum = new double[dim];
        float[] normed = new float[dim];
        for (int from = 0; from < tokens.length; from += CHUNK) {
            int n = appendChunk(s, tokens, from, true);
            for (int t = 0; t < n; t++) {
                if (pooling == Pooling.LAST && from + t != tokens.length - 1) continue;
                rmsnorm(normed, bx[t], w.outputNorm, config.rmsEps());
                for (int i = 0; i < dim; i++) sum[i] += normed[i];
            }
        }
        float[] out = new float[dim];
        int count = pooling == Pooling.MEAN ? tokens.length : 1;
        double norm = 0;
        for (int i = 0; i < dim; i++) {
            out[i] = (float) (sum[i] / count);
            norm += (double) out[i] * out[i];
        }
        if (normalize && norm > 0) {
            float inv = (float) (1 / Math.sqrt(norm));
            for (int i = 0; i < dim; i++) out[i] *= inv;
        }
        return out;
    }

    /** The logits of a final hidden state into {@link #logits}: output norm, output matrix, soft-capping if any. */
    private void outputLogits(float[] hidden) {
        rmsnorm(xb, hidden, w.outputNorm, config.rmsEps());
        w.output.matvec(xb, logits, pool);
        float cap = config.finalSoftcap();
        if (cap > 0) {
            for (int i = 0; i < logits.length; i++) logits[i] = cap * (float) Math.tanh(logits[i] / cap);
        }
    }

    /**
     * The weight products of one chunk: prompt tokens through {@code Matrix.matmulPrompt}, generated tokens through
     * {@code Matrix.matmul} (the decode arithmetic, bit-identical to one token alone), each group as one call.
     */
    private final class Products {
        private boolean[] prompts;
        private int from;
        private int n;
        private int promptCount;

        Products set(boolean[] prompts, int from, int n, int promptCount) {
            this.prompts = prompts;
            this.from = from;
            this.n = n;
            this.promptCount = promptCount;
            return this;
        }

        void run(dev.freehold.core.kernel.Matrix m, float[][] in, float[][] out) {
            if (promptCount == n) {
                m.matmulPrompt(in, out, n, pool);
            } else if (promptCount == 0) {
                m.matmul(in, out, n, pool);
            } else {
                int p = 0;
                int d = 0;
                for (int t = 0; t < n; t++) {
                    if (prompts[from + t]) {
                        promptIn[p] = in[t];
                        promptOut[p++] = out[t];
                    } else {
                        decodeIn[d] = in[t];
                        decodeOut[d++] = out[t];
                    }
                }
                m.matmulPrompt(promptIn, promptOut, p, pool);
                m.matmul(decodeIn, decodeOut, d, pool);
            }
        }
    }

    /**
     * GELU with the tanh approximation, as ggml's CPU backend computes it: through a table indexed by the input
     * rounded to half precision, holding the result rounded to half precision (and exact beyond +-10).
     */
    static float geluAsGgml(float x) {
        if (x <= -10f) return 0f;
        if (x >= 10f) return x;
        float h = Float.float16ToFloat(Float.floatToFloat16(x));
        float y = 0.5f * h * (1f + (float) Math.tanh(0.7978845608028654f * h * (1f + 0.044715f * h * h)));
        return Float.float16ToFloat(Float.floatToFloat16(y));
    }

    /**
     * Makes room in a full sequence, as llama.cpp's context shift does: the first {@code keep} positions stay, the
     * next {@code discard} are dropped, and the rest move down by {@code discard}. Cached keys carry their position
     * in their RoPE rotation, so each moved key is rotated back by {@code discard} positions.
     */
    public void shift(Sequence s, int keep, int discard) {
        if (keep < 0 || discard < 1 || keep + discard > s.length) {
            throw new IllegalArgumentException("cannot keep %d and discard %d of %d positions".formatted(keep, discard, s.length));
        }
        ModelConfig c = config;
        int kvDim = c.kvDim();
        ropeAngles(-discard);
        for (int l = 0; l < c.layers(); l++) {
            float[] keys = s.keys[l];
            float[] values = s.values[l];
            float[] k = new float[kvDim];
            for (int p = keep + discard; p < s.length; p++) {
                int from = AttentionKernel.keyIndex(p, 0, kvDim); // dimension i at from + TILE * i
                for (int i = 0; i < kvDim; i++) k[i] = keys[from + AttentionKernel.TILE * i];
                rope(k, c.kvHeads(), ropeCos, ropeSin);
                int to = p - discard;
                int into = AttentionKernel.keyIndex(to, 0, kvDim);
                for (int i = 0; i < kvDim; i++) keys[into + AttentionKernel.TILE * i] = kvF16 ? Bits.roundTripF16(k[i]) : k[i];
                System.arraycopy(values, p * kvDim, values, to * kvDim, kvDim);
            }
        }
        System.arraycopy(s.tokens, keep + discard, s.tokens, keep, s.length - keep - discard);
        s.length -= discard;
    }

    /** ggml's RoPE angles for a position: theta_i = pos * base^(-2i/n), divided by Llama 3.1's factors if any. */
    private void ropeAngles(int pos) {
        int n = config.ropeDims();
        float thetaScale = (float) Math.pow(config.ropeFreqBase(), -2.0 / n);
        float theta = pos;
        for (int i = 0; i < n / 2; i++) {
            float t = w.ropeFactors != null ? theta / w.ropeFactors[i] : theta;
            ropeCos[i] = (float) Math.cos(t);
            ropeSin[i] = (float) Math.sin(t);
            theta *= thetaScale;
        }
    }

    private void cache(Sequence s, int layer, int pos, float[] key, float[] value) {
        int kvDim = config.kvDim();
        int ko = pos * kvDim;
        float[] keys = s.keys[layer];
        int kt = AttentionKernel.keyIndex(pos, 0, kvDim); // dimension i at kt + TILE * i
        if (kvF16) {
            // Half-precision cache, as llama.cpp's default; it decides near-ties the same way.
            for (int i = 0; i < kvDim; i++) {
                keys[kt + AttentionKernel.TILE * i] = Bits.roundTripF16(key[i]);
                s.values[layer][ko + i] = Bits.roundTripF16(value[i]);
            }
        } else {
            for (int i = 0; i < kvDim; i++) keys[kt + AttentionKernel.TILE * i] = key[i];
            System.arraycopy(value, 0, s.values[layer], ko, kvDim);
        }
    }

    private void rope(float[] vec, int heads, float[] cos, float[] sin) {
        int hd = config.headDim();
        int n = config.ropeDims();
        boolean halves = config.architecture().rope() == Architecture.RopeStyle.HALVES;
        for (int h = 0; h < heads; h++) {
            int base = h * hd;
            for (int i = 0; i < n / 2; i++) {
                int a = halves ? base + i : base + 2 * i;
                int b = halves ? base + i + n / 2 : base + 2 * i + 1;
                float x0 = vec[a];
                float x1 = vec[b];
                vec[a] = x0 * cos[i] - x1 * sin[i];
                vec[b] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }

    /**
     * One head of one token: softmax(scale * q·K) · V over its sequence's positions up to {@code pos} (the last
     * {@code window} of them when the layer slides, else all), scores soft-capped when the model says so.
     */
    private void attendHead(Sequence s, int layer, int pos, int window, int h, float[] query, float[] out, float[] sc, float[] lanes) {
        ModelConfig c = config;
        int hd = c.headDim();
        int first = window > 0 ? Math.max(0, pos - window + 1) : 0;
        int kvo = (h / (c.heads() / c.kvHeads())) * hd;
        AttentionKernel.attend(query, h * hd, s.keys[layer], s.values[layer], kvo, c.kvDim(), hd, first, pos,
                c.queryScale(), c.attnSoftcap(), out, sc, lanes);
    }

    /** RMSNorm as ggml computes it: mean of squares accumulated in double, then (x * scale) * weight. */
    static void rmsnorm(float[] out, float[] in, float[] weight, float eps) {
        double sum = 0;
        for (float f : in) sum += (double) (f * f);
        float scale = (float) (1.0 / Math.sqrt((float) (sum / in.length) + eps));
        for (int i = 0; i < in.length; i++) out[i] = (in[i] * scale) * weight[i];
    }

    private static void add(float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) a[i] += b[i];
    }

    @Override
    public void close() {
        pool.close();
        file.close();
    }

    /** For tests: the kernel of each weight matrix. */
    Matrix output() {
        return w.output;
    }
}
