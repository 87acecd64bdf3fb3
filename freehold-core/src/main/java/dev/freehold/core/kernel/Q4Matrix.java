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
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Q4_0: an f16 scale, then 16 bytes whose low nibbles are values 0..15 and high nibbles 16..31, each minus 8. */
final class Q4Matrix extends Block32Matrix {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final int BLOCK_BYTES = 18;

    Q4Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_0, data, rows, cols);
    }

    // These constants repeat in Q50Matrix and Q51Matrix on purpose: moved to Block32Matrix and shared, they made this
    // kernel's generation 20% slower (tg32 of the 1B Q4_0 model 34-35 -> 27-29 tok/s, same run).
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final VectorMask<Byte> SECOND_HALF = VectorMask.fromLong(B256, 0xFFFF0000L);
    /** Lane i takes lane i + 2: a block's 16 bytes of nibbles after its 2-byte scale, to lanes 0..15. */
    private static final VectorShuffle<Byte> SKIP_SCALE = VectorShuffle.fromOp(B256, i -> Math.min(i + 2, 31));
    private static final VectorMask<Float> SECOND_BLOCK = VectorMask.fromLong(F512, 0xFF00L);

    /**
     * Two blocks per 512-bit vector. Their 16 + 16 bytes are not adjacent (the second block's scale lies between
     * them): two overlapping 32-byte loads, at the first block and 4 bytes later, the first shifted down by its
     * 2-byte scale and blended half and half with the second, put them side by side (the two scales are read out of
     * the same loads: a scalar read from the segment here was not inlined, 7% of decode time, in its bounds check); zero-extended to 32 16-bit lanes, the nibbles are split there. Low nibbles times the first
     * halves of both blocks' activations plus high nibbles times the second halves ({@link Q8Activations#pairs} holds
     * them in that order) gives 32 lanes of two products each (at most 2 * 8 * 127): lanes 0..15 of the first block,
     * 16..31 of the second. Neighbouring lanes are added into 16 int lanes (the high half of p + (p << 16), at most
     * 4 * 8 * 127; int lanes 0..7 hold the first block, 8..15 the second), converted, and multiplied with a vector of
     * the two blocks' scales. The code is written out rather than called, for the reason given in
     * {@link Q8Matrix#dotQ8}.
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
            ByteVector second = ByteVector.fromMemorySegment(B256, data, block + 4, ByteOrder.LITTLE_ENDIAN);
            ShortVector q = (ShortVector) first.rearrange(SKIP_SCALE).blend(second, SECOND_HALF)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            float s0 = Float.float16ToFloat(first.reinterpretAsShorts().lane(0));
            float s1 = Float.float16ToFloat(second.reinterpretAsShorts().lane(7));
            ShortVector lo = q.and((short) 0x0F).sub((short) 8);
            ShortVector hi = q.lanewise(VectorOperators.LSHR, 4).sub((short) 8);
            FloatVector scale = FloatVector.broadcast(F512, s0 * xd[b]).blend(s1 * xd[b + 1], SECOND_BLOCK);
            int o = 32 * b;
            IntVector p;
            p = lo.mul(ShortVector.fromArray(S512, xq, o)).add(hi.mul(ShortVector.fromArray(S512, xq, o + 32))).reinterpretAsInts();
            sums = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0)).fma(scale, sums);
        }
        float sum = Dot.sumLanes(sums);
        if (b < nb) sum += blockScalar(block, a, b);
        return sum;
    }

    @Override
    boolean readsPairs() {
        return true;
    }

    @Override
    boolean hasTile4() {
        return true;
    }

    /** Four vectors per row with {@link #dotQ8}'s arithmetic: each pair of blocks is loaded and split once for the four. */
    @Override
    void tile4(int row, Q8Activations[] a, int t, float[][] outs, float[] lanes) {
        long block = row * rowBytes;
        short[] x0 = a[t].pairs, x1 = a[t + 1].pairs, x2 = a[t + 2].pairs, x3 = a[t + 3].pairs;
        float[] d0 = a[t].d, d1 = a[t + 1].d, d2 = a[t + 2].d, d3 = a[t + 3].d;
        FloatVector e0 = FloatVector.zero(F512), e1 = FloatVector.zero(F512), e2 = FloatVector.zero(F512), e3 = FloatVector.zero(F512);
        int nb = cols / 32;
        int b = 0;
        for (; b + 1 < nb; b += 2, block += 2 * BLOCK_BYTES) {
            ByteVector first = ByteVector.fromMemorySegment(B256, data, block, ByteOrder.LITTLE_ENDIAN);
            ByteVector second = ByteVector.fromMemorySegment(B256, data, block + 4, ByteOrder.LITTLE_ENDIAN);
            ShortVector q = (ShortVector) first.rearrange(SKIP_SCALE).blend(second, SECOND_HALF)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            float s0 = Float.float16ToFloat(first.reinterpretAsShorts().lane(0));
            float s1 = Float.float16ToFloat(second.reinterpretAsShorts().lane(7));
            ShortVector lo = q.and((short) 0x0F).sub((short) 8);
            ShortVector hi = q.lanewise(VectorOperators.LSHR, 4).sub((short) 8);
            int o = 32 * b;
            IntVector p;
            FloatVector scale;
            scale = FloatVector.broadcast(F512, s0 * d0[b]).blend(s1 * d0[b + 1], SECOND_BLOCK);
            p = lo.mul(ShortVector.fromArray(S512, x0, o)).add(hi.mul(ShortVector.fromArray(S512, x0, o + 32))).reinterpretAsInts();
            e0 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0)).fma(scale, e0);
            scale = FloatVector.broadcast(F512, s0 * d1[b]).blend(s1 * d1[b + 1], SECOND_BLOCK);
            p = lo.mul(ShortVector.fromArray(S512, x1, o)).add(hi.mul(ShortVector.fromArray(S512, x1, o + 32))).reinterpretAsInts();
            e1 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0)).fma(scale, e1);
            scale = FloatVector.broadcast(F512, s0 * d2[b]).blend(s1 * d2[b + 1], SECOND_BLOCK);
            p = lo.mul(ShortVector.fromArray(S512, x2, o)).add(hi.mul(ShortVector.fromArray(S512, x2, o + 32))).reinterpretAsInts();
            e2 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0)).fma(scale, e2);
            scale = FloatVector.broadcast(F512, s0 * d3[b]).blend(s1 * d3[b + 1], SECOND_BLOCK);
            p = lo.mul(ShortVector.fromArray(S512, x3, o)).add(hi.mul(ShortVector.fromArray(S512, x3, o + 32))).reinterpretAsInts();
            e3 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0)).fma(scale, e3);
        }
        // Lane sums through a scratch array: passing the vectors to a method that is not inlined would box them.
        e0.intoArray(lanes, 0);
        e1.intoArray(lanes, 16);
        e2.intoArray(lanes, 32);
        e3.intoArray(lanes, 48);
        for (int k = 0; k < 4; k++) {
            float sum = Dot.sumLanes16(lanes, 16 * k);
            if (b < nb) sum += blockScalar(block, a[t + k], b);
            outs[t + k][row] = sum;
        }
    }

    @Override
    int blockValue(long block, int j) {
        return (j < 16 ? Bits.u8(data, block + 2 + j) & 0x0F : Bits.u8(data, block + 2 + j - 16) >>> 4) - 8;
    }

    /** The row as floats: nibbles widened to 16 int lanes, minus 8, times d (exactly the codec's values). */
    @Override
    void decodeRow(int row, float[] dst, int off) {
        if (!VECTOR) {
            super.decodeRow(row, dst, off);
            return;
        }
        long block = row * rowBytes;
        for (int j = off; j < off + cols; j += 32, block += BLOCK_BYTES) {
            float d = Bits.f16(data, block);
            IntVector q = (IntVector) ByteVector.fromMemorySegment(B, data, block + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
            ((FloatVector) q.and(0x0F).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(dst, j);
            ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(dst, j + 16);
        }
    }
}
