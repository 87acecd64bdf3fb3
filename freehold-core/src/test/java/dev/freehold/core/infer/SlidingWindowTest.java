package dev.freehold.core.infer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.freehold.core.format.convert.GgufConverter;
import dev.freehold.core.format.convert.QuantizationPolicy;
import dev.freehold.core.format.convert.SegmentTensorSource;
import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.format.gguf.GgufTensorInfo;
import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.format.synthetic.RandomLlamaModel;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.util.ProgressListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sliding-window attention (Mistral v0.1's {@code sliding_window}, written as {@code llama.attention.sliding_window};
 * llama.cpp ignores it for the llama architecture, so the oracle here is an identity instead): in a one-layer model
 * whose window is W, the token at position p sees only positions p-W+1..p, and RoPE makes attention depend only on
 * relative positions; so its logits equal those of the last W tokens run as a fresh sequence. Without the window
 * they do not.
 */
class SlidingWindowTest {
    static final int WINDOW = 8;

    @Test
    void aTokenSeesOnlyTheLastWindowOfPositions(@TempDir Path tmp) throws Exception {
        Path plain = tmp.resolve("plain.gguf");
        RandomLlamaModel.write(plain, new RandomLlamaModel.Shape(128, 256, 1, 4, 2, 300, 256, false), GgmlType.F32, 5, ProgressListener.NONE);
        Path windowed = tmp.resolve("windowed.gguf");
        withMetadata(plain, windowed, "llama.attention.sliding_window", GgufValue.ofUInt32(WINDOW));

        int[] tokens = new int[20];
        for (int i = 0; i < tokens.length; i++) tokens[i] = 10 + 13 * i;
        int[] lastWindow = java.util.Arrays.copyOfRange(tokens, tokens.length - WINDOW, tokens.length);
        EngineOptions f32Cache = EngineOptions.defaults().withThreads(2).withKvCache(EngineOptions.KvCacheType.F32);
        try (Engine e = Engine.load(windowed, f32Cache); Engine p = Engine.load(plain, f32Cache)) {
            assertThat(e.config().slidingWindow()).isEqualTo(WINDOW);
            float[] all = e.forward(e.newSequence(32), tokens).clone();
            float[] recent = e.forward(e.newSequence(32), lastWindow).clone();
            assertThat(maxDifference(all, recent)).as("windowed: all tokens vs the last window alone").isLessThan(1e-4);
            // one token at a time (the decode path) gives the same as the chunk
            Sequence s = e.newSequence(32);
            float[] stepwise = null;
            for (int t : tokens) stepwise = e.forward(s, t);
            assertThat(maxDifference(all, stepwise)).isLessThan(1e-4);

            float[] plainAll = p.forward(p.newSequence(32), tokens).clone();
            float[] plainRecent = p.forward(p.newSequence(32), lastWindow).clone();
            assertThat(maxDifference(plainAll, plainRecent)).as("no window: earlier tokens matter").isGreaterThan(1e-3);
        }
    }

    static double maxDifference(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }

    /** Copies a GGUF with one metadata entry added. */
    static void withMetadata(Path in, Path out, String key, GgufValue value) throws Exception {
        try (GgufFile f = GgufFile.open(in)) {
            Map<String, GgufValue> md = new LinkedHashMap<>(f.metadata());
            md.put(key, value);
            List<SegmentTensorSource> tensors = new ArrayList<>();
            for (GgufTensorInfo t : f.tensors()) tensors.add(new SegmentTensorSource(t.name(), t.shape(), t.type(), f.data(t)));
            GgufConverter.write(out, md, tensors, new QuantizationPolicy(GgmlType.F32), ProgressListener.NONE);
        }
    }
}
