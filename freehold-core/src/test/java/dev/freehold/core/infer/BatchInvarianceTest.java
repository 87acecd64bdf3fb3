package dev.freehold.core.infer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.freehold.core.format.synthetic.RandomLlamaModel;
import dev.freehold.core.sample.Sampler;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.util.ProgressListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sequence decoded alone and decoded inside a batch of 8 (different prompts and lengths, all in one forward per
 * step) gives the same tokens, and the same logits bit for bit.
 */
class BatchInvarianceTest {

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "Q8_0", "Q4_K"})
    void decodingInABatchOfEightEqualsDecodingAlone(GgmlType type, @TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("m.gguf");
        RandomLlamaModel.write(f, new RandomLlamaModel.Shape(256, 512, 2, 8, 2, 400, 256, false), type, 9, ProgressListener.NONE);
        Random r = new Random(1);
        int[][] prompts = new int[8][];
        for (int i = 0; i < 8; i++) {
            prompts[i] = new int[3 + r.nextInt(40)];
            for (int k = 0; k < prompts[i].length; k++) prompts[i][k] = 3 + r.nextInt(390);
        }
        int steps = 12;
        try (Engine e = Engine.load(f, new EngineOptions(2, EngineOptions.KvCacheType.F16))) {
            // alone
            List<int[]> alone = new ArrayList<>();
            List<float[]> aloneLastLogits = new ArrayList<>();
            for (int[] p : prompts) {
                Sequence s = e.newSequence(128);
                float[] logits = e.forward(s, p);
                int[] out = new int[steps];
                for (int k = 0; k < steps; k++) {
                    out[k] = Sampler.argmax(logits);
                    logits = e.forward(s, out[k]);
                }
                alone.add(out);
                aloneLastLogits.add(logits.clone());
            }
            // together: prompts in one batch, then one batched step per token
            List<Sequence> seqs = new ArrayList<>();
            List<Engine.BatchEntry> batch = new ArrayList<>();
            for (int[] p : prompts) {
                Sequence s = e.newSequence(128);
                seqs.add(s);
                batch.add(new Engine.BatchEntry(s, p));
            }
            List<float[]> logits = e.forward(batch);
            int[][] together = new int[8][steps];
            for (int k = 0; k < steps; k++) {
                batch.clear();
                for (int i = 0; i < 8; i++) {
                    together[i][k] = Sampler.argmax(logits.get(i));
                    batch.add(new Engine.BatchEntry(seqs.get(i), new int[] {together[i][k]}));
                }
                logits = e.forward(batch);
            }
            for (int i = 0; i < 8; i++) {
                assertThat(together[i]).as("%s sequence %d tokens", type, i).containsExactly(alone.get(i));
                assertThat(logits.get(i)).as("%s sequence %d logits", type, i).containsExactly(aloneLastLogits.get(i));
                int[] fed = Arrays.copyOf(prompts[i], prompts[i].length + steps);
                System.arraycopy(together[i], 0, fed, prompts[i].length, steps);
                assertThat(seqs.get(i).tokens()).as("%s sequence %d cached tokens", type, i).containsExactly(fed);
            }
            Sequence s = seqs.getFirst();
            assertThatThrownBy(() -> e.forward(List.of(new Engine.BatchEntry(s, new int[] {5}), new Engine.BatchEntry(s, new int[] {6}))))
                    .hasMessageContaining("appears twice");
        }
    }
}
