package dev.freehold.core.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AttentionKernelTest {

    @Test
    void exponentialIsWithinTwoUlpOfMathExpAndVectorLanesEqualTheScalarForm() {
        int n = 200_003; // not a multiple of 16: the scalar tail runs too
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = -87f * i / (n - 1); // 0 down to -87
        float[] lanes = new float[16];
        float[] e = a.clone();
        double sum = 0;
        float got = VectorMath.expShifted(e, 0, n, 0f, lanes);
        for (int i = 0; i < n; i++) {
            double exact = Math.exp(a[i]);
            sum += e[i];
            assertThat((double) e[i]).as("e^%s", a[i]).isCloseTo(exact, within(2.0 * Math.ulp((float) exact)));
            assertThat(e[i]).as("vector lane = scalar form at %s", a[i]).isEqualTo(VectorMath.exp(a[i]));
        }
        assertThat((double) got).isCloseTo(sum, within(1e-4 * sum));
        assertThat(VectorMath.exp(-90f)).isZero();
        assertThat(VectorMath.exp(0f)).isEqualTo(1f);
    }

    /** Against softmax attention in double precision, for head sizes taking the vector path (64) and not (8). */
    @ParameterizedTest
    @ValueSource(ints = {8, 64, 256})
    void attentionMatchesADoublePrecisionReference(int hd) {
        Random r = new Random(hd);
        int positions = 77;
        int stride = 3 * hd; // three KV heads; use the middle one
        int kvo = hd;
        float[] keys = new float[positions * stride];
        float[] values = new float[positions * stride];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (float) r.nextGaussian();
            values[i] = (float) r.nextGaussian();
        }
        float[] keyTiles = new float[(int) AttentionKernel.keyCacheSize(positions, stride)];
        for (int t = 0; t < positions; t++) {
            for (int i = 0; i < stride; i++) keyTiles[AttentionKernel.keyIndex(t, i, stride)] = keys[t * stride + i];
        }
        float[] query = new float[2 * hd];
        for (int i = 0; i < query.length; i++) query[i] = (float) r.nextGaussian();
        float scale = (float) (1 / Math.sqrt(hd));
        // whole tiles of 16 positions and partial ones at either end (a sliding window starts anywhere)
        for (int[] range : new int[][] {{0, 0}, {0, 76}, {40, 76}, {5, 63}, {16, 31}, {3, 76}}) {
            float[] out = new float[2 * hd];
            AttentionKernel.attend(query, hd, keyTiles, values, kvo, stride, hd, range[0], range[1], scale, 0f, out, new float[positions], new float[16]);
            double[] w = new double[positions];
            double max = Double.NEGATIVE_INFINITY;
            for (int t = range[0]; t <= range[1]; t++) {
                double dot = 0;
                for (int i = 0; i < hd; i++) dot += (double) query[hd + i] * keys[t * stride + kvo + i];
                w[t] = dot * scale;
                max = Math.max(max, w[t]);
            }
            double z = 0;
            for (int t = range[0]; t <= range[1]; t++) z += w[t] = Math.exp(w[t] - max);
            for (int i = 0; i < hd; i++) {
                double expected = 0;
                for (int t = range[0]; t <= range[1]; t++) expected += w[t] / z * values[t * stride + kvo + i];
                assertThat((double) out[hd + i]).as("hd %d, positions %d..%d, dim %d", hd, range[0], range[1], i).isCloseTo(expected, within(1e-5));
            }
            for (int i = 0; i < hd; i++) assertThat(out[i]).as("other heads untouched").isZero();
        }
    }

    /**
     * A position's score is computed in a vector lane (in a group of four tiles of 16 positions, or a tile alone) or,
     * where the range cuts a tile, in scalar code; all do the same operations in the same order. Starting at 16, the
     * positions go 16..79 (four tiles), 80..95 (one tile), 96..99 (scalar); starting at 17, 17..31 (scalar), 32..95
     * (four tiles), 96..99: every position of 17..99 takes another path in the other call and must get the same
     * bits. The softmax numerators left in the scratch array are compared; position 40 holds the largest score in
     * both calls, so they share a maximum.
     */
    @Test
    void tiledAndScalarScoresAreTheSameBits() {
        int hd = 64;
        int stride = hd;
        int positions = 100;
        Random r = new Random(3);
        float[] query = new float[hd];
        for (int i = 0; i < hd; i++) query[i] = (float) r.nextGaussian();
        float[] keyTiles = new float[(int) AttentionKernel.keyCacheSize(positions, stride)];
        float[] values = new float[positions * stride];
        for (int t = 0; t < positions; t++) {
            for (int i = 0; i < hd; i++) {
                keyTiles[AttentionKernel.keyIndex(t, i, stride)] = t == 40 ? 2 * query[i] : (float) r.nextGaussian();
                values[t * stride + i] = (float) r.nextGaussian();
            }
        }
        float[] whole = new float[positions];
        float[] partial = new float[positions];
        AttentionKernel.attend(query, 0, keyTiles, values, 0, stride, hd, 16, 99, 0.125f, 0f, new float[hd], whole, new float[16]);
        AttentionKernel.attend(query, 0, keyTiles, values, 0, stride, hd, 17, 99, 0.125f, 0f, new float[hd], partial, new float[16]);
        for (int t = 17; t < positions; t++) {
            assertThat(Float.floatToRawIntBits(partial[t])).as("position %d", t).isEqualTo(Float.floatToRawIntBits(whole[t]));
        }
        assertThat(whole[40]).isEqualTo(1f); // exp(max - max)
    }
}
