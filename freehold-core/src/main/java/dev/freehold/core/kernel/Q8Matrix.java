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

/** Q8_0: an f16 scale, then 32 signed bytes. */
final class Q8Matrix extends Block32Matrix {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final int BLOCK_BYTES = 34;

    Q8Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q8_0, data, rows, cols);
    }

    /**
     * Per block: 32 weights widened to 16-bit lanes, multiplied with the 16-bit activations, neighbouring products
     * added into 16 int lanes (the pair sum is at most 2 * 128 * 127, so it fits the upper half of each int),
     * converted to float and accumulated with the block's scale. Two accumulators, one lane sum at the end.
     */
    @Override
    float dotQ8(int row, Q8Activations a) {
        long block = row * rowBytes;
        short[] xq = a.qs;
        float[] xd = a.d;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int nb = cols / 32;
        int b = 0;
        for (; b + 1 < nb; b += 2, block += 2 * BLOCK_BYTES) {
            acc0 = blockSums(block, xq, 32 * b).fma(FloatVector.broadcast(F, Bits.f16(data, block) * xd[b]), acc0);
            acc1 = blockSums(block + BLOCK_BYTES, xq, 32 * b + 32)
                    .fma(FloatVector.broadcast(F, Bits.f16(data, block + BLOCK_BYTES) * xd[b + 1]), acc1);
        }
        if (b < nb) acc0 = blockSums(block, xq, 32 * b).fma(FloatVector.broadcast(F, Bits.f16(data, block) * xd[b]), acc0);
        return Dot.sumLanes(acc0.add(acc1));
    }

    private FloatVector blockSums(long block, short[] xq, int i) {
        ShortVector w = (ShortVector) ByteVector.fromMemorySegment(B, data, block + 2, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2S, S, 0);
        IntVector p = w.mul(ShortVector.fromArray(S, xq, i)).reinterpretAsInts();
        // high half of p + (p << 16) is hi + lo; the shift brings it down with its sign
        IntVector pairs = p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
        return (FloatVector) pairs.convert(VectorOperators.I2F, 0);
    }

    @Override
    void decodeBlock(long block, float[] w) {
        for (int j = 0; j < 32; j++) w[j] = Bits.s8(data, block + 2 + j);
    }
}
