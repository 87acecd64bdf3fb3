package dev.freehold.core.sample;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks tokens from logits with {@link SamplingParams}: a chain of small steps over the candidates. One per
 * sequence (it keeps the random state and the recent tokens for penalties); buffers are allocated once.
 */
public final class Sampler {
    private final SamplingParams p;
    private final SplittableRandom random;
    private final int[] recent;
    private int recentCount;
    private int recentNext;
    private int[] order = new int[0];
    private float[] probs = new float[0];
    private long[] keys = new long[0];

    private final int[] biasIds;
    private final float[] biasValues;

    public Sampler(SamplingParams params) {
        this(params, java.util.Map.of());
    }

    /**
     * @param logitBias added to a token's logit before every other step (as OpenAI's {@code logit_bias}; -100 all but
     *                  bans a token, +100 all but forces it). Ids outside the vocabulary are ignored.
     */
    public Sampler(SamplingParams params, java.util.Map<Integer, Float> logitBias) {
        this.p = params;
        this.biasIds = new int[logitBias.size()];
        this.biasValues = new float[logitBias.size()];
        int i = 0;
        for (var e : new java.util.TreeMap<>(logitBias).entrySet()) {
            biasIds[i] = e.getKey();
            biasValues[i++] = e.getValue();
        }
        this.random = new SplittableRandom(params.seed());
        this.recent = new int[Math.max(1, params.penaltyLastN())];
    }

    /** Tells the sampler about a token in the context (prompt or generated), for the penalties. */
    public void accept(int token) {
        recent[recentNext] = token;
        recentNext = (recentNext + 1) % recent.length;
        recentCount = Math.min(recentCount + 1, recent.length);
    }

    /** Chooses the next token; {@code logits} may be modified. */
    public int sample(float[] logits) {
        for (int i = 0; i < biasIds.length; i++) {
            if (biasIds[i] >= 0 && biasIds[i] < logits.length) logits[biasIds[i]] += biasValues[i];
        }
        applyPenalties(logits);
        if (p.isGreedy()) return argmax(logits);
        int n = logits.length;
        int keep = p.topK() > 0 ? Math.min(p.topK(), n) : n;
        ensureCapacity(n);
        selectTop(logits, keep);
        // softmax over the kept candidates (before temperature, as llama.cpp's filters see them)
        softmax(logits, keep);
        keep = typical(logits, keep);
        keep = topP(keep);
        keep = minP(keep);
        // temperature, then draw
        float max = logits[order[0]];
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            probs[i] = (float) Math.exp((logits[order[i]] - max) / p.temperature());
            sum += probs[i];
        }
        double r = random.nextDouble() * sum;
        for (int i = 0; i < keep; i++) {
            r -= probs[i];
            if (r <= 0) return order[i];
        }
        return order[keep - 1];
    }

    /**
     * Puts the ids of the {@code k} largest logits, largest first (lower id first on ties), into order[0..k): a
     * size-k heap of packed (logit, id) keys, then a sort of those k. No boxing, no allocation.
     */
    void selectTop(float[] logits, int k) {
        int n = logits.length;
        ensureCapacity(n);
        if (k == n) {
            for (int i = 0; i < n; i++) keys[i] = key(logits[i], i);
            Arrays.sort(keys, 0, n);
        } else {
            // min-heap of the k best keys in keys[0..k)
            for (int i = 0; i < k; i++) {
                keys[i] = key(logits[i], i);
                siftUp(i);
            }
            for (int i = k; i < n; i++) {
                long kk = key(logits[i], i);
                if (kk > keys[0]) {
                    keys[0] = kk;
                    siftDown(0, k);
                }
            }
            Arrays.sort(keys, 0, k);
        }
        for (int i = 0; i < k; i++) order[i] = (int) ~keys[k - 1 - i];
    }

    private void ensureCapacity(int n) {
        if (order.length != n) {
            order = new int[n];
            probs = new float[n];
            keys = new long[n];
        }
    }

    /** For tests: the candidates {@link #selectTop} chose. */
    int[] candidates(int k) {
        return Arrays.copyOf(order, k);
    }

    /** Orders by logit, then by lower id: the float's bits made monotonic, and the complemented id. */
    private static long key(float logit, int id) {
        int bits = Float.floatToIntBits(logit);
        bits ^= (bits >> 31) & 0x7FFFFFFF;
        return ((long) bits << 32) | (~id & 0xFFFFFFFFL);
    }

    private void siftUp(int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (keys[parent] <= keys[i]) return;
            long t = keys[parent];
            keys[parent] = keys[i];
            keys[i] = t;
            i = parent;
        }
    }

    private void siftDown(int i, int size) {
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) return;
            int smallest = l + 1 < size && keys[l + 1] < keys[l] ? l + 1 : l;
            if (keys[i] <= keys[smallest]) return;
            long t = keys[i];
            keys[i] = keys[smallest];
            keys[smallest] = t;
            i = smallest;
        }
    }

    private void softmax(float[] logits, int keep) {
        float max = logits[order[0]];
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            probs[i] = (float) Math.exp(logits[order[i]] - max);
            sum += probs[i];
        }
        for (int i = 0; i < keep; i++) probs[i] /= (float) sum;
    }

    private int topP(int keep) {
        if (p.topP() >= 1f) return keep;
        double cum = 0;
        for (int i = 0; i < keep; i++) {
            cum += probs[i];
            if (cum >= p.topP()) return i + 1;
        }
        return keep;
    }

    private int minP(int keep) {
        if (p.minP() <= 0f) return keep;
        float threshold = probs[0] * p.minP();
        int k = 1;
        while (k < keep && probs[k] >= threshold) k++;
        return k;
    }

    /** Locally typical sampling: keep tokens whose surprise is closest to the entropy, up to typicalP mass. */
    private int typical(float[] logits, int keep) {
        if (p.typicalP() >= 1f) return keep;
        double entropy = 0;
        for (int i = 0; i < keep; i++) if (probs[i] > 0) entropy -= probs[i] * Math.log(probs[i]);
        Integer[] byTypicality = new Integer[keep];
        for (int i = 0; i < keep; i++) byTypicality[i] = i;
        final double h = entropy;
        Arrays.sort(byTypicality, (a, b) -> Double.compare(Math.abs(-Math.log(probs[a]) - h), Math.abs(-Math.log(probs[b]) - h)));
        double cum = 0;
        int k = 0;
        while (k < keep) {
            cum += probs[byTypicality[k]];
            k++;
            if (cum >= p.typicalP()) break;
        }
        int[] tokens = new int[k];
        for (int i = 0; i < k; i++) tokens[i] = order[byTypicality[i]];
        // keep candidates ordered by logit (then id) for the steps after this one
        long[] sorted = new long[k];
        for (int i = 0; i < k; i++) sorted[i] = key(logits[tokens[i]], tokens[i]);
        Arrays.sort(sorted);
        for (int i = 0; i < k; i++) order[i] = (int) ~sorted[k - 1 - i];
        softmax(logits, k);
        return k;
    }

    private void applyPenalties(float[] logits) {
        boolean repeat = p.repeatPenalty() != 1f;
        boolean presence = p.presencePenalty() != 0f || p.frequencyPenalty() != 0f;
        if ((!repeat && !presence) || recentCount == 0) return;
        java.util.Map<Integer, Integer> counts = new java.util.HashMap<>();
        for (int i = 0; i < recentCount; i++) counts.merge(recent[i], 1, Integer::sum);
        for (var e : counts.entrySet()) {
            int t = e.getKey();
            if (t < 0 || t >= logits.length) continue;
            if (repeat) logits[t] = logits[t] > 0 ? logits[t] / p.repeatPenalty() : logits[t] * p.repeatPenalty();
            if (presence) logits[t] -= e.getValue() * p.frequencyPenalty() + p.presencePenalty();
        }
    }

    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
