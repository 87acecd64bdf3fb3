package dev.freehold.core.kernel;

import dev.freehold.core.tensor.Bits;
import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q4_K weights: super-blocks of 256 values (f16 d and dmin, twelve bytes of 6-bit sub-block scales and mins, 128
 * bytes of nibbles; bytes 32k..32k+31 hold sub-block 2k in their low nibbles and 2k+1 in their high ones). As in
 * ggml, the activations are quantised to Q8_K and for each sub-block j
 * {@code sum((d*sc_j*q - dmin*m_j) * dx*qx) = dx*d*sc_j*sum(q*qx) - dx*dmin*m_j*sum(qx)}, where the sums of qx come
 * with the Q8_K block. Integer products in 16-bit lanes as in {@link Q8Matrix} (a lane adds two products of at
 * most 15 * 128, a pair of lanes four). Needs AVX-512 vectors; elsewhere it uses the reference path.
 */
final class Q4KMatrix extends KQuantMatrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final int BLOCK_BYTES = 144;

    Q4KMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_K, data, rows, cols);
    }

    /** Written out without vector-returning helpers, for the reason given in {@link Q8Matrix#dotQ8}. */
    @Override
    float dotQ8K(int row, Q8KActivations a) {
        long block = row * rowBytes;
        short[] xq = a.qs;
        int[] bsums = a.bsums;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        float minTerm = 0f;
        for (int sb = 0; sb < cols / 256; sb++, block += BLOCK_BYTES) {
            float dx = a.d[sb];
            float d = Bits.f16(data, block) * dx;
            float dmin = Bits.f16(data, block + 2) * dx;
            long lo = data.get(Bits.LE_LONG, block + 4);
            int hi = data.get(Bits.LE_INT, block + 12);
            long scales = q4kScales(lo, hi);
            long minima = q4kMins(lo, hi);
            int mins = 0;
            for (int k = 0; k < 4; k++) {
                long qs = block + 16 + 32L * k;
                ShortVector q0 = (ShortVector) ByteVector.fromMemorySegment(B, data, qs, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector q1 = (ShortVector) ByteVector.fromMemorySegment(B, data, qs + 16, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                int o = 256 * sb + 64 * k;
                IntVector pl = q0.and((short) 0x0F).mul(ShortVector.fromArray(S, xq, o))
                        .add(q1.and((short) 0x0F).mul(ShortVector.fromArray(S, xq, o + 16))).reinterpretAsInts();
                FloatVector sl = (FloatVector) pl.add(pl.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0);
                long sc = scales >>> (16 * k);
                long mn = minima >>> (16 * k);
                acc0 = sl.fma(FloatVector.broadcast(F, d * (int) (sc & 0xFF)), acc0);
                IntVector ph = q0.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S, xq, o + 32))
                        .add(q1.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S, xq, o + 48))).reinterpretAsInts();
                FloatVector sh = (FloatVector) ph.add(ph.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0);
                acc1 = sh.fma(FloatVector.broadcast(F, d * (int) ((sc >>> 8) & 0xFF)), acc1);
                int g = 16 * sb + 4 * k;
                mins += (int) (mn & 0xFF) * (bsums[g] + bsums[g + 1]) + (int) ((mn >>> 8) & 0xFF) * (bsums[g + 2] + bsums[g + 3]);
            }
            minTerm += dmin * mins;
        }
        return Dot.sumLanes(acc0.add(acc1)) - minTerm;
    }
}
