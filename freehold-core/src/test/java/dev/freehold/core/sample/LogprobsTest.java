package dev.freehold.core.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class LogprobsTest {

    @Test
    void matchesASortOfTheFullLogSoftmax() {
        SplittableRandom r = new SplittableRandom(3);
        for (int trial = 0; trial < 50; trial++) {
            float[] logits = new float[1000];
            for (int i = 0; i < logits.length; i++) logits[i] = (float) (r.nextGaussian() * 4);
            logits[17] = logits[400]; // a tie: lower id first
            float[] all = Logprobs.all(logits);
            int n = r.nextInt(21);
            Logprobs.Step step = Logprobs.of(logits, 123, n);
            Integer[] order = IntStream.range(0, logits.length).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -logits[i]).thenComparingInt(i -> i));
            assertThat(step.top()).hasSize(n);
            for (int i = 0; i < n; i++) {
                assertThat(step.top()[i].token()).isEqualTo(order[i]);
                assertThat(step.top()[i].logprob()).isCloseTo(all[order[i]], within(1e-5f));
            }
            assertThat(step.chosen().logprob()).isCloseTo(all[123], within(1e-5f));
            double total = 0;
            for (float v : all) total += Math.exp(v);
            assertThat(total).isCloseTo(1.0, within(1e-4));
        }
    }

    @Test
    void logitsAreNotModified() {
        float[] logits = {1, 2, 3};
        Logprobs.of(logits, 0, 2);
        assertThat(logits).containsExactly(1, 2, 3);
    }
}
