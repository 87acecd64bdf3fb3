package dev.freehold.core.kernel;

import dev.freehold.core.tensor.Bits;
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
}
