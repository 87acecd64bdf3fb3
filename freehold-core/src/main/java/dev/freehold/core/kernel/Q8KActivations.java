package dev.freehold.core.kernel;

import dev.freehold.core.tensor.Bits;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.tensor.TensorCodec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An activation vector quantised to Q8_K the way ggml's CPU backend does before multiplying it with K-quant weights:
 * per 256 values one float scale d and 8-bit values (-128..127), plus the sums of each 16 values. The quantisation is
 * the bit-exact Q8_K codec; its result is unpacked into 16-bit integers for the vector kernels.
 */
final class Q8KActivations {
    private static final TensorCodec Q8_K = GgmlType.Q8_K.codec().orElseThrow();
    private static final int BLOCK_BYTES = 292;

    final short[] qs; // (n,) -128..127
    final float[] d; // (n/256,) block scales
    final int[] bsums; // (n/16,) sums of qs over each 16
    private final MemorySegment packed;

    Q8KActivations(int n) {
        qs = new short[n];
        d = new float[n / 256];
        bsums = new int[n / 16];
        packed = MemorySegment.ofArray(new byte[n / 256 * BLOCK_BYTES]);
    }

    void quantize(float[] x, int n) {
        Q8_K.quantize(x, 0, packed, 0, n);
        for (int b = 0; b < n / 256; b++) {
            long base = (long) b * BLOCK_BYTES;
            d[b] = packed.get(Bits.LE_FLOAT, base);
            for (int j = 0; j < 256; j++) qs[256 * b + j] = packed.get(ValueLayout.JAVA_BYTE, base + 4 + j);
            for (int j = 0; j < 16; j++) bsums[16 * b + j] = packed.get(Bits.LE_SHORT, base + 260 + 2L * j);
        }
    }

    /**
     * {@code out[i]} = x[i] rounded as {@link #quantize} rounds it, q * d, with vector instructions: what the prompt
     * path multiplies with. ggml scales by -127 / (the value of largest magnitude); scaling by -127 / |that value|
     * instead negates both q and d when the value is negative, so q * d is the same. Rounding to nearest (ties to
     * even, as ggml's nearest_int) by adding and subtracting 1.5 * 2^23.
     */
    static void roundTrip(float[] x, float[] out, int n) {
        for (int b = 0; b < n / 256; b++) {
            int o = 256 * b;
            if (!VECTOR) {
                float amax = 0f;
                for (int j = 0; j < 256; j++) amax = Math.max(amax, Math.abs(x[o + j]));
                float iscale = -127.f / amax;
                float d = 1 / iscale;
                for (int j = 0; j < 256; j++) out[o + j] = amax == 0 ? 0f : ((iscale * x[o + j] + VectorMath.ROUND) - VectorMath.ROUND) * d;
                continue;
            }
            FloatVector m = FloatVector.fromArray(F, x, o).abs();
            for (int j = 16; j < 256; j += 16) m = m.max(FloatVector.fromArray(F, x, o + j).abs());
            float amax = m.reduceLanes(VectorOperators.MAX); // exact in any order
            if (amax == 0f) {
                java.util.Arrays.fill(out, o, o + 256, 0f);
                continue;
            }
            float iscale = -127.f / amax;
            float d = 1 / iscale;
            for (int j = 0; j < 256; j += 16) {
                FloatVector.fromArray(F, x, o + j).mul(iscale).add(VectorMath.ROUND).sub(VectorMath.ROUND).mul(d).intoArray(out, o + j);
            }
        }
    }

    private static final jdk.incubator.vector.VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;
}
