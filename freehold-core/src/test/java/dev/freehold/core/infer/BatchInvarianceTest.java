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

    /**
     * Prompt tokens take the matrix-matrix path; their numbers must not depend on how the prompt is cut into pieces
     * or what else shares the forward (the server feeds prompts in budgeted pieces next to other sequences).
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_K", "F16"})
    void promptLogitsDoNotDependOnHowThePromptIsCutOrBatched(GgmlType type, @TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("m.gguf");
        RandomLlamaModel.write(f, new RandomLlamaModel.Shape(256, 512, 2, 8, 2, 400, 256, false), type, 9, ProgressListener.NONE);
        Random r = new Random(2);
        int[] prompt = new int[70];
        for (int k = 0; k < prompt.length; k++) prompt[k] = 3 + r.nextInt(390);
        try (Engine e = Engine.load(f, new EngineOptions(2, EngineOptions.KvCacheType.F16))) {
            float[] whole = e.forwardPrompt(e.newSequence(128), prompt).clone();
            // in pieces of 1, 5, 29 and 35 tokens
            Sequence pieces = e.newSequence(128);
            float[] last = null;
            int[] cuts = {0, 1, 6, 35, 70};
            for (int c = 0; c + 1 < cuts.length; c++) last = e.forwardPrompt(pieces, Arrays.copyOfRange(prompt, cuts[c], cuts[c + 1]));
            assertThat(last).as("%s prompt in pieces", type).containsExactly(whole);
            // in a batch, in pieces of 13, after another sequence's prompt piece and next to a decoding one
            Sequence other = e.newSequence(128);
            e.forwardPrompt(other, 7, 8, 9);
            Sequence batched = e.newSequence(128);
            List<float[]> out = null;
            for (int from = 0; from < prompt.length; from += 13) {
                int to = Math.min(prompt.length, from + 13);
                Sequence third = e.newSequence(16);
                out = e.forward(List.of(
                        new Engine.BatchEntry(third, new int[] {4, 5, 6, 7, 8}, false, true),
                        new Engine.BatchEntry(batched, Arrays.copyOfRange(prompt, from, to), to == prompt.length, true),
                        new Engine.BatchEntry(other, new int[] {10 + from % 50})));
            }
            assertThat(out.get(1)).as("%s prompt batched in pieces", type).containsExactly(whole);
        }
    }
}
