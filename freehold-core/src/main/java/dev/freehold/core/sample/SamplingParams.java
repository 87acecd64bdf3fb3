package dev.freehold.core.sample;

/**
 * How to pick the next token. Temperature 0 means greedy (the most likely token). The other steps run in
 * llama.cpp's order: penalties over the last {@code penaltyLastN} tokens, top-k, typical-p, top-p, min-p, then
 * temperature and a draw with a seeded generator (the same seed gives the same text on every run).
 *
 * @param topK            keep the k most likely (0: all)
 * @param topP            keep the smallest set with this much probability (1: all)
 * @param minP            drop tokens less likely than minP times the most likely (0: none)
 * @param typicalP        locally typical sampling mass (1: off)
 * @param repeatPenalty   divide positive / multiply negative logits of recent tokens (1: off)
 * @param presencePenalty subtract from recent tokens' logits once (0: off)
 * @param frequencyPenalty subtract per occurrence (0: off)
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float typicalP, float repeatPenalty,
                             int penaltyLastN, float presencePenalty, float frequencyPenalty, long seed) {

    public SamplingParams {
        check("temperature", temperature, 0, 100);
        if (topK < 0) throw new IllegalArgumentException("top-k must not be negative, got " + topK);
        check("top-p", topP, 0, 1);
        check("min-p", minP, 0, 1);
        check("typical-p", typicalP, 0, 1);
        check("repeat penalty", repeatPenalty, 0, 100);
        if (repeatPenalty == 0) throw new IllegalArgumentException("repeat penalty must be positive (1 turns it off)");
        if (penaltyLastN < 0) throw new IllegalArgumentException("penalty window must not be negative, got " + penaltyLastN);
        check("presence penalty", presencePenalty, -2, 2);
        check("frequency penalty", frequencyPenalty, -2, 2);
    }

    private static void check(String name, float v, float min, float max) {
        if (Float.isNaN(v) || v < min || v > max) {
            throw new IllegalArgumentException("%s must be between %s and %s, got %s".formatted(name, min, max, v));
        }
    }

    public static SamplingParams greedy() {
        return new SamplingParams(0f, 0, 1f, 0f, 1f, 1f, 64, 0f, 0f, 0);
    }

    /** llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05. */
    public static SamplingParams defaults(long seed) {
        return new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1f, 1f, 64, 0f, 0f, seed);
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }
}
