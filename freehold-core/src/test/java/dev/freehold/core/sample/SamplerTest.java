package dev.freehold.core.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SamplerTest {
    static SamplingParams params(float temperature, int topK, float topP, float minP, long seed) {
        return new SamplingParams(temperature, topK, topP, minP, 1f, 1f, 64, 0f, 0f, seed);
    }

    @Test
    void candidatesAreTheLargestLogitsLowerIdFirstOnTies() {
        Random r = new Random(1);
        float[] logits = new float[5000];
        for (int i = 0; i < logits.length; i++) logits[i] = r.nextInt(200) / 8f - 12f; // many ties, negatives
        Integer[] expected = IntStream.range(0, logits.length).boxed().toArray(Integer[]::new);
        Arrays.sort(expected, Comparator.comparingDouble((Integer i) -> -logits[i]).thenComparingInt(i -> i));
        Sampler s = new Sampler(SamplingParams.greedy());
        for (int k : new int[] {1, 5, 40, 5000}) {
            s.selectTop(logits, k);
            assertThat(s.candidates(k)).as("k=%d", k).containsExactly(Arrays.stream(expected, 0, k).mapToInt(Integer::intValue).toArray());
        }
    }

    @Test
    void atTemperatureOneFrequenciesFollowTheSoftmax() {
        float[] logits = {2f, 1f, 0f, -1f, 0.5f};
        double[] p = new double[logits.length];
        double z = 0;
        for (int i = 0; i < p.length; i++) z += p[i] = Math.exp(logits[i]);
        Sampler s = new Sampler(params(1f, 0, 1f, 0f, 7));
        int draws = 200_000;
        int[] counts = new int[logits.length];
        for (int d = 0; d < draws; d++) counts[s.sample(logits.clone())]++;
        for (int i = 0; i < p.length; i++) {
            double expected = p[i] / z;
            double sd = Math.sqrt(expected * (1 - expected) / draws);
            assertThat(counts[i] / (double) draws).as("token %d", i).isBetween(expected - 5 * sd, expected + 5 * sd);
        }
    }

    @Test
    void filtersRestrictWhatCanBeDrawn() {
        float[] logits = {3f, 2.9f, 1f, 0f, -5f};
        Sampler topK = new Sampler(params(5f, 2, 1f, 0f, 1));
        Sampler topP = new Sampler(params(5f, 0, 0.5f, 0f, 2));   // 3.0 alone holds under half; 3.0 + 2.9 pass 0.5
        Sampler minP = new Sampler(params(5f, 0, 1f, 0.5f, 3));   // exp(1-3) < 0.5: only the first two survive
        for (int d = 0; d < 2000; d++) {
            assertThat(topK.sample(logits.clone())).isIn(0, 1);
            assertThat(topP.sample(logits.clone())).isIn(0, 1);
            assertThat(minP.sample(logits.clone())).isIn(0, 1);
        }
        assertThat(new Sampler(SamplingParams.greedy()).sample(logits.clone())).isZero();
    }

    @Test
    void theSameSeedGivesTheSameDraws() {
        float[] logits = new float[1000];
        new Random(3).ints(1000, -100, 100).forEach(new java.util.function.IntConsumer() {
            int i;

            public void accept(int v) {
                logits[i++] = v / 10f;
            }
        });
        int[] a = new int[50];
        int[] b = new int[50];
        int[] c = new int[50];
        Sampler sa = new Sampler(params(1f, 40, 0.95f, 0.05f, 42));
        Sampler sb = new Sampler(params(1f, 40, 0.95f, 0.05f, 42));
        Sampler sc = new Sampler(params(1f, 40, 0.95f, 0.05f, 43));
        for (int i = 0; i < 50; i++) {
            a[i] = sa.sample(logits.clone());
            b[i] = sb.sample(logits.clone());
            c[i] = sc.sample(logits.clone());
        }
        assertThat(a).containsExactly(b).isNotEqualTo(c);
    }

    @Test
    void penaltiesLowerRecentTokens() {
        float[] logits = {2f, 1.9f, -1f};
        Sampler s = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 1f, 1.2f, 64, 0f, 0f, 1));
        s.accept(0);
        assertThat(s.sample(logits.clone())).as("2/1.2 < 1.9").isEqualTo(1);
        Sampler presence = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 1f, 1f, 64, 0.5f, 0f, 1));
        presence.accept(0);
        assertThat(presence.sample(logits.clone())).isEqualTo(1);
        assertThatThrownBy(() -> params(Float.NaN, 0, 1f, 0f, 1)).hasMessageContaining("temperature");
    }

    @Test
    void logitBiasBansAndForcesTokensBeforeTheOtherSteps() {
        float[] logits = {5f, 1f, 0f, -1f};
        Sampler banned = new Sampler(SamplingParams.greedy(), java.util.Map.of(0, -100f));
        assertThat(banned.sample(logits.clone())).isEqualTo(1);
        Sampler forced = new Sampler(params(1f, 0, 1f, 0f, 11), java.util.Map.of(3, 100f, 99, 5f)); // 99: outside, ignored
        for (int i = 0; i < 200; i++) assertThat(forced.sample(logits.clone())).isEqualTo(3);
        // top-k 1 sees the biased logits: the biased token is the only candidate
        Sampler topK = new Sampler(params(1f, 1, 1f, 0f, 5), java.util.Map.of(2, 6f));
        assertThat(topK.sample(logits.clone())).isEqualTo(2);
    }
}
