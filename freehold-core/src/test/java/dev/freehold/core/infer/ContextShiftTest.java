package dev.freehold.core.infer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.freehold.core.format.synthetic.RandomLlamaModel;
import dev.freehold.core.sample.SamplingParams;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.testing.SharedData;
import dev.freehold.core.util.ProgressListener;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContextShiftTest {

    /**
     * With one layer, cached keys and values depend only on each token and its position, so a shifted cache must equal
     * a recomputed one up to rounding: this checks the re-rotation of keys. (With more layers the kept tokens' deeper
     * K/V were computed attending to the dropped ones; no shift can equal a recomputation, in llama.cpp either.)
     */
    @Test
    void aShiftedCacheGivesTheLogitsOfRecomputingTheKeptTokens(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("m.gguf");
        RandomLlamaModel.write(f, new RandomLlamaModel.Shape(256, 512, 1, 8, 2, 400, 256, false).withArchitecture("qwen2"), GgmlType.F32, 4,
                ProgressListener.NONE);
        int[] tokens = new int[40];
        Random r = new Random(2);
        for (int i = 0; i < tokens.length; i++) tokens[i] = i == 0 ? 1 : 3 + r.nextInt(390);
        try (Engine e = Engine.load(f, new EngineOptions(2, EngineOptions.KvCacheType.F32))) {
            Sequence shifted = e.newSequence(64);
            e.forward(shifted, Arrays.copyOf(tokens, 39));
            e.shift(shifted, 1, 15); // keep BOS, drop tokens 1..15
            assertThat(shifted.length()).isEqualTo(24);
            float[] afterShift = e.forward(shifted, tokens[39]).clone();
            int[] kept = new int[25];
            kept[0] = tokens[0];
            System.arraycopy(tokens, 16, kept, 1, 24);
            // The sequence's token record moves with its cache: chat's prefix reuse relies on it.
            assertThat(shifted.tokens()).containsExactly(kept);
            Sequence recomputed = e.newSequence(64);
            float[] fresh = e.forward(recomputed, kept);
            assertThat(recomputed.tokens()).containsExactly(kept);
            double maxDiff = 0;
            double maxAbs = 0;
            for (int i = 0; i < fresh.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(fresh[i] - afterShift[i]));
                maxAbs = Math.max(maxAbs, Math.abs(fresh[i]));
            }
            // Only rounding differs: rotating a key back is not bit-identical to rotating it to the new position.
            assertThat(maxDiff).as("largest logit difference (logits up to %.2f)", maxAbs).isLessThan(1e-4 * Math.max(1, maxAbs));
        }
    }

    @Test
    void generationGoesOnPastAFullContext() throws Exception {
        Path model = SharedData.require("llama2c-stories260K/stories260K.gguf");
        try (Engine e = Engine.load(model, EngineOptions.defaults().withThreads(2))) {
            Generator.Result r = Generator.generate(e, new int[] {1}, 150, 48, SamplingParams.greedy(), s -> { });
            assertThat(r.tokens()).hasSize(150);
            assertThat(r.finishReason()).isEqualTo(Generator.FinishReason.LENGTH);
            assertThat(r.text()).startsWith("Once upon a time");
            // without BOS nothing is kept: the shift drops the older half of everything
            Generator.Result noBos = Generator.generate(e, new int[] {403, 407}, 150, 48, SamplingParams.greedy(), s -> { });
            assertThat(noBos.tokens()).hasSize(150);
            assertThat(noBos.finishReason()).isEqualTo(Generator.FinishReason.LENGTH);
        }
    }
}
