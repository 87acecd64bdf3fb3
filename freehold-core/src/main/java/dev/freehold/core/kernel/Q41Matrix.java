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

/** Q4_1: f16 d and m, then 16 bytes of nibbles (values 0..15 and 16..31, unsigned); value = d * q + m. Products at
 * most 15 * 127, four to an int lane. */
final class Q41Matrix extends Block32Matrix {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int BLOCK_BYTES = 20;
    private static final int QS = 4; // offset of the 16 nibble bytes in a block

    Q41Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_1, data, rows, cols);
    }

    @Override
    boolean hasMin() {
        return true;
    }

    /**
     * As {@link Q4Matrix#dotQ8}: values 0..15 and 16..31 of a block in 16-bit lanes, times their activations, pairs
     * of lanes added into 8 int lanes (within range: see the class comment), converted and scaled. Written out
     * twice rather than called, for the reason given in {@link Q8Matrix#dotQ8}.
     */
    @Override
    float dotQ8(int row, Q8Activations a) {
        long block = row * rowBytes;
        short[] xq = a.qs;
        float[] xd = a.d;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        float minTerm = 0f;
        int nb = cols / 32;
        int b = 0;
        for (; b + 1 < nb; b += 2, block += 2 * BLOCK_BYTES) {
            ShortVector q0 = (ShortVector) ByteVector.fromMemorySegment(B, data, block + QS, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector lo0 = q0.and((short) 0x0F);
            ShortVector hi0 = q0.lanewise(VectorOperators.LSHR, 4);
            IntVector p0 = lo0.mul(ShortVector.fromArray(S, xq, 32 * b)).add(hi0.mul(ShortVector.fromArray(S, xq, 32 * b + 16)))
                    .reinterpretAsInts();
            FloatVector s0 = (FloatVector) p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .convert(VectorOperators.I2F, 0);
            acc0 = s0.fma(FloatVector.broadcast(F, Bits.f16(data, block) * xd[b]), acc0);
            long block1 = block + BLOCK_BYTES;
            ShortVector q1 = (ShortVector) ByteVector.fromMemorySegment(B, data, block1 + QS, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector lo1 = q1.and((short) 0x0F);
            ShortVector hi1 = q1.lanewise(VectorOperators.LSHR, 4);
            IntVector p1 = lo1.mul(ShortVector.fromArray(S, xq, 32 * b + 32)).add(hi1.mul(ShortVector.fromArray(S, xq, 32 * b + 48)))
                    .reinterpretAsInts();
            FloatVector s1 = (FloatVector) p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .convert(VectorOperators.I2F, 0);
            acc1 = s1.fma(FloatVector.broadcast(F, Bits.f16(data, block1) * xd[b + 1]), acc1);
            minTerm += blockMin(block) * a.s[b] + blockMin(block1) * a.s[b + 1];
        }
        float sum = Dot.sumLanes(acc0.add(acc1)) + minTerm;
        if (b < nb) sum += blockScalar(block, a, b);
        return sum;
    }

    @Override
    int blockValue(long block, int j) {
        return j < 16 ? Bits.u8(data, block + QS + j) & 0x0F : Bits.u8(data, block + QS + j - 16) >>> 4;
    }

    /** The row as floats, as the codec decodes it: nibble * d + m (a multiply, then an add: Java does not fuse them). */
    @Override
    void decodeRow(int row, float[] dst, int off) {
        if (!VECTOR) {
            super.decodeRow(row, dst, off);
            return;
        }
        long block = row * rowBytes;
        for (int j = off; j < off + cols; j += 32, block += BLOCK_BYTES) {
            float d = Bits.f16(data, block);
            float m = Bits.f16(data, block + 2);
            IntVector q = (IntVector) ByteVector.fromMemorySegment(B, data, block + QS, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
            ((FloatVector) q.and(0x0F).convert(VectorOperators.I2F, 0)).mul(d).add(m).intoArray(dst, j);
            ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d).add(m).intoArray(dst, j + 16);
        }
    }
}
