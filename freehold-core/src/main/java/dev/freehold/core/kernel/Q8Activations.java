package dev.freehold.core.kernel;

import dev.freehold.core.tensor.Bits;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * An activation vector quantised to Q8_0 blocks the way ggml's CPU backend does before multiplying it with Q8_0
 * or Q4_0 weights: per block of 32, scale d = amax/127 (stored as f16), values round(x * 127/amax) with ties to
 * even. Following llama.cpp here keeps greedy decoding identical to it; it is also what integer-dot kernels need.
 * The quantised values are kept as 16-bit integers for the vector kernels and as floats for the scalar reference.
 */
final class Q8Activations {
    final float[] q; // (n,) integer values -127..127
    final short[] qs; // the same values
    final short[] pairs; // the same values in the order the two-block kernels (Q4_0, Q5_0, Q5_1) read them (fillPairs)
    final float[] d; // (n/32,) block scales as f16-rounded floats
    final float[] s; // (n/32,) d times the block's sum of values, f16-rounded: Q8_1's s, for Q4_1 and Q5_1

    Q8Activations(int n) {
        q = new float[n];
        qs = new short[n];
        pairs = new short[n];
        d = new float[n / 32];
        s = new float[n / 32];
    }

    void quantize(float[] x, int n) {
        for (int b = 0; b < n / 32; b++) {
            int o = b * 32;
            float amax = 0f;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
            float scale = amax / 127.f;
            float id = amax != 0f ? 127.f / amax : 0f;
            d[b] = Bits.roundTripF16(scale);
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                float v = (float) Math.rint(x[o + j] * id);
                q[o + j] = v;
                qs[o + j] = (short) v;
                sum += (int) v;
            }
            s[b] = Bits.roundTripF16(sum * scale);
        }
    }

    /**
     * Fills {@link #pairs} from the values of the last {@link #quantize}: per pair of blocks (64 values), the first
     * halves of both blocks, then the second halves of both. Only the kernels that take two blocks per step (Q4_0,
     * Q5_0, Q5_1) read them.
     */
    void fillPairs(int n) {
        for (int p = 0; p + 64 <= n; p += 64) {
            System.arraycopy(qs, p, pairs, p, 16);
            System.arraycopy(qs, p + 32, pairs, p + 16, 16);
            System.arraycopy(qs, p + 16, pairs, p + 32, 16);
            System.arraycopy(qs, p + 48, pairs, p + 48, 16);
        }
    }

    /**
     * {@code out[i]} = x[i] rounded as {@link #quantize} rounds it, q * d, with vector instructions: what the prompt
     * path multiplies with. Rounding to the nearest integer (ties to even, as {@code Math.rint}) by adding and
     * subtracting 1.5 * 2^23, exact for |x * 127/amax| <= 127.
     */
    static void roundTrip(float[] x, float[] out, int n) {
        int b = 0;
        if (VECTOR) {
            for (; b < n / 32; b++) {
                int o = 32 * b;
                FloatVector v0 = FloatVector.fromArray(F, x, o);
                FloatVector v1 = FloatVector.fromArray(F, x, o + 16);
                float amax = v0.abs().max(v1.abs()).reduceLanes(VectorOperators.MAX); // exact in any order
                float d = Bits.roundTripF16(amax / 127.f);
                float id = amax != 0f ? 127.f / amax : 0f;
                v0.mul(id).add(VectorMath.ROUND).sub(VectorMath.ROUND).mul(d).intoArray(out, o);
                v1.mul(id).add(VectorMath.ROUND).sub(VectorMath.ROUND).mul(d).intoArray(out, o + 16);
            }
        }
        for (; b < n / 32; b++) {
            int o = 32 * b;
            float amax = 0f;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
            float d = Bits.roundTripF16(amax / 127.f);
            float id = amax != 0f ? 127.f / amax : 0f;
            for (int j = 0; j < 32; j++) out[o + j] = (float) Math.rint(x[o + j] * id) * d;
        }
    }

    private static final jdk.incubator.vector.VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;
}
