package dev.freehold.core.sample;

import java.util.Arrays;

/**
 * Log-probabilities of the model's own distribution (log-softmax of the raw logits, before any sampling step), as
 * OpenAI's {@code logprobs} report them: the chosen token's and the {@code n} most likely alternatives.
 */
public final class Logprobs {
    private Logprobs() {
    }

    /** One token and its log-probability. */
    public record TokenLogprob(int token, float logprob) {
    }

    /** The chosen token's entry and the top alternatives, most likely first (lower id first on ties). */
    public record Step(TokenLogprob chosen, TokenLogprob[] top) {
    }

    /** Computes the step for {@code chosen} from raw {@code logits} (not modified); {@code n} from 0 to 20. */
    public static Step of(float[] logits, int chosen, int n) {
        if (n < 0) throw new IllegalArgumentException("the number of alternatives must not be negative");
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) if (v > max) max = v;
        double sum = 0;
        for (float v : logits) sum += Math.exp(v - max);
        float logZ = (float) (max + Math.log(sum));
        n = Math.min(n, logits.length);
        // Insertion into a small sorted array: n is at most 20, the vocabulary is large.
        int[] ids = new int[n];
        float[] vals = new float[n];
        int filled = 0;
        for (int id = 0; id < logits.length; id++) {
            float v = logits[id];
            if (filled == n && (n == 0 || v <= vals[n - 1])) continue;
            int at = filled < n ? filled : n - 1;
            while (at > 0 && vals[at - 1] < v) {
                if (at < n) {
                    ids[at] = ids[at - 1];
                    vals[at] = vals[at - 1];
                }
                at--;
            }
            ids[at] = id;
            vals[at] = v;
            if (filled < n) filled++;
        }
        TokenLogprob[] top = new TokenLogprob[filled];
        for (int i = 0; i < filled; i++) top[i] = new TokenLogprob(ids[i], vals[i] - logZ);
        return new Step(new TokenLogprob(chosen, logits[chosen] - logZ), top);
    }

    /** For tests: every token's log-probability. */
    static float[] all(float[] logits) {
        float[] out = Arrays.copyOf(logits, logits.length);
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double sum = 0;
        for (float v : logits) sum += Math.exp(v - max);
        float logZ = (float) (max + Math.log(sum));
        for (int i = 0; i < out.length; i++) out[i] -= logZ;
        return out;
    }
}
