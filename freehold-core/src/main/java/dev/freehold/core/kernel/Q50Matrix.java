package dev.freehold.core.kernel;

import dev.freehold.core.tensor.Bits;
import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** Q5_0: f16 d, a 32-bit word of fifth bits (bit j for value j), 16 bytes of nibbles; value = d * (q - 16). The
 * fifth bits become lane masks (one instruction each). Products at most 16 * 127, four to an int lane. */
final class Q50Matrix extends Block32Matrix {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final int BLOCK_BYTES = 22;
    private static final int QS = 6; // offset of the 16 nibble bytes in a block
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    /** Lane i takes lane i + 6: the first block's 16 nibble bytes, after its header, to lanes 0..15. */
    private static final VectorShuffle<Byte> SKIP_HEADER = VectorShuffle.fromOp(B256, i -> Math.min(i + QS, 31));
    private static final VectorMask<Byte> SECOND_HALF = VectorMask.fromLong(B256, 0xFFFF0000L);
    private static final VectorMask<Float> SECOND_BLOCK = VectorMask.fromLong(F512, 0xFF00L);
    /** Offset of the second 32-byte load of a pair of blocks: it ends where the pair does (44 bytes). */
    private static final int SECOND = 2 * BLOCK_BYTES - 32;

    Q50Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q5_0, data, rows, cols);
    }

    @Override
    boolean readsPairs() {
        return true;
    }

    /**
     * Two blocks per step, as {@link Q4Matrix#dotQ8}: two 32-byte loads (at the pair's start, and ending at its end)
     * put both blocks' 16 nibble bytes side by side (one byte permute and a blend), zero-extended into 32 16-bit
     * lanes; low nibbles times the first halves of both blocks' activations plus high nibbles times the second halves
     * ({@link Q8Activations#pairs}), neighbouring lanes added into 16 int lanes, converted, scaled by a vector
     * holding each block's d_w * d_x in its 8 lanes. Scales and fifth bits are read out of the loaded vectors, not
     * from the segment (a scalar segment read here costs its own bounds check). The fifth bits of both blocks make
     * two 32-lane masks; lanes whose bit is clear have the 16 subtracted (one masked subtraction instead of an OR and
     * a subtraction). Written out rather than called, for the reason given in {@link Q8Matrix#dotQ8}.
     */
    @Override
    float dotQ8(int row, Q8Activations a) {
        long block = row * rowBytes;
        short[] xq = a.pairs;
        float[] xd = a.d;
        FloatVector sums = FloatVector.zero(F512);
        int nb = cols / 32;
        int b = 0;
        for (; b + 1 < nb; b += 2, block += 2 * BLOCK_BYTES) {
            ByteVector first = ByteVector.fromMemorySegment(B256, data, block, ByteOrder.LITTLE_ENDIAN);
            ByteVector second = ByteVector.fromMemorySegment(B256, data, block + SECOND, ByteOrder.LITTLE_ENDIAN);
            ShortVector q = (ShortVector) first.rearrange(SKIP_HEADER).blend(second, SECOND_HALF)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector header = first.reinterpretAsShorts();
            float d0 = Float.float16ToFloat(header.lane(0)), d1 = Float.float16ToFloat(header.lane(11));
            int qh0 = (int) (first.reinterpretAsLongs().lane(0) >>> 16);
            int qh1 = first.reinterpretAsInts().lane(6);
            long fifthLow = (qh0 & 0xFFFFL) | (qh1 & 0xFFFFL) << 16;
            long fifthHigh = (qh0 >>> 16) | (long) (qh1 >>> 16) << 16;
            ShortVector lo = q.and((short) 0x0F).lanewise(VectorOperators.SUB, (short) 16, VectorMask.fromLong(S512, ~fifthLow & 0xFFFFFFFFL));
            ShortVector hi = q.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.SUB, (short) 16, VectorMask.fromLong(S512, ~fifthHigh & 0xFFFFFFFFL));
            FloatVector scale = FloatVector.broadcast(F512, d0 * xd[b]).blend(d1 * xd[b + 1], SECOND_BLOCK);
            int o = 32 * b;
            IntVector p = lo.mul(ShortVector.fromArray(S512, xq, o)).add(hi.mul(ShortVector.fromArray(S512, xq, o + 32))).reinterpretAsInts();
            sums = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0)).fma(scale, sums);
        }
        float sum = Dot.sumLanes(sums);
        if (b < nb) sum += blockScalar(block, a, b);
        return sum;
    }

    @Override
    int blockValue(long block, int j) {
        int nibble = j < 16 ? Bits.u8(data, block + QS + j) & 0x0F : Bits.u8(data, block + QS + j - 16) >>> 4;
        return (nibble | ((data.get(Bits.LE_INT, block + 2) >>> j) & 1) << 4) - 16;
    }

    /** The row as floats, as the codec decodes it: ((nibble | fifth bit << 4) - 16) * d; the fifth bits as lane masks. */
    @Override
    void decodeRow(int row, float[] dst, int off) {
        if (!VECTOR) {
            super.decodeRow(row, dst, off);
            return;
        }
        long block = row * rowBytes;
        for (int j = off; j < off + cols; j += 32, block += BLOCK_BYTES) {
            float d = Bits.f16(data, block);
            int qh = data.get(Bits.LE_INT, block + 2);
            IntVector q = (IntVector) ByteVector.fromMemorySegment(B, data, block + QS, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
            IntVector lo = q.and(0x0F).lanewise(VectorOperators.OR, 16, VectorMask.fromLong(IntVector.SPECIES_512, qh & 0xFFFF)).sub(16);
            IntVector hi = q.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.OR, 16, VectorMask.fromLong(IntVector.SPECIES_512, qh >>> 16)).sub(16);
            ((FloatVector) lo.convert(VectorOperators.I2F, 0)).mul(d).intoArray(dst, j);
            ((FloatVector) hi.convert(VectorOperators.I2F, 0)).mul(d).intoArray(dst, j + 16);
        }
    }
}
