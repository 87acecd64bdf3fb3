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

/** Q4_0: an f16 scale, then 16 bytes whose low nibbles are values 0..15 and high nibbles 16..31, each minus 8. */
final class Q4Matrix extends Block32Matrix {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int BLOCK_BYTES = 18;

    Q4Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_0, data, rows, cols);
    }

    /**
     * Per block: the 16 bytes zero-extended to 16-bit lanes, where the nibbles are split (byte-lane shifts cost
     * several instructions each); values 0..15 and 16..31 times their activations added lane-wise, neighbouring
     * lanes added into 8 int lanes (at most 4 * 8 * 128), converted and scaled. 256-bit vectors: on this CPU a
     * 512-bit operation costs two 256-bit ones, and at this width no lanes are wasted. The block code is written
     * out twice rather than called, for the reason given in {@link Q8Matrix#dotQ8}.
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
            ShortVector q0 = (ShortVector) ByteVector.fromMemorySegment(B, data, block + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector p0 = q0.and((short) 0x0F).sub((short) 8).mul(ShortVector.fromArray(S, xq, 32 * b))
                    .add(q0.lanewise(VectorOperators.LSHR, 4).sub((short) 8).mul(ShortVector.fromArray(S, xq, 32 * b + 16)))
                    .reinterpretAsInts();
            FloatVector s0 = (FloatVector) p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .convert(VectorOperators.I2F, 0);
            acc0 = s0.fma(FloatVector.broadcast(F, Bits.f16(data, block) * xd[b]), acc0);
            long block1 = block + BLOCK_BYTES;
            ShortVector q1 = (ShortVector) ByteVector.fromMemorySegment(B, data, block1 + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector p1 = q1.and((short) 0x0F).sub((short) 8).mul(ShortVector.fromArray(S, xq, 32 * b + 32))
                    .add(q1.lanewise(VectorOperators.LSHR, 4).sub((short) 8).mul(ShortVector.fromArray(S, xq, 32 * b + 48)))
                    .reinterpretAsInts();
            FloatVector s1 = (FloatVector) p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .convert(VectorOperators.I2F, 0);
            acc1 = s1.fma(FloatVector.broadcast(F, Bits.f16(data, block1) * xd[b + 1]), acc1);
        }
        float sum = Dot.sumLanes(acc0.add(acc1));
        if (b < nb) sum += blockScalar(block, a, b);
        return sum;
    }

    @Override
    boolean hasTile4() {
        return true;
    }

    /** Four vectors per row: each weight block is loaded and unpacked once for the four. */
    @Override
    void tile4(int row, Q8Activations[] a, int t, float[][] outs, float[] lanes) {
        long block = row * rowBytes;
        short[] x0 = a[t].qs, x1 = a[t + 1].qs, x2 = a[t + 2].qs, x3 = a[t + 3].qs;
        float[] d0 = a[t].d, d1 = a[t + 1].d, d2 = a[t + 2].d, d3 = a[t + 3].d;
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a10 = FloatVector.zero(F), a11 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a30 = FloatVector.zero(F), a31 = FloatVector.zero(F);
        int nb = cols / 32;
        int b = 0;
        for (; b + 1 < nb; b += 2, block += 2 * BLOCK_BYTES) {
            long block1 = block + BLOCK_BYTES;
            ShortVector q0 = (ShortVector) ByteVector.fromMemorySegment(B, data, block + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector q1 = (ShortVector) ByteVector.fromMemorySegment(B, data, block1 + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector lo0 = q0.and((short) 0x0F).sub((short) 8);
            ShortVector hi0 = q0.lanewise(VectorOperators.LSHR, 4).sub((short) 8);
            ShortVector lo1 = q1.and((short) 0x0F).sub((short) 8);
            ShortVector hi1 = q1.lanewise(VectorOperators.LSHR, 4).sub((short) 8);
            float s0 = Bits.f16(data, block);
            float s1 = Bits.f16(data, block1);
            int o = 32 * b;
            IntVector p;
            FloatVector v;
            p = lo0.mul(ShortVector.fromArray(S, x0, o)).add(hi0.mul(ShortVector.fromArray(S, x0, o + 16))).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a00 = v.fma(FloatVector.broadcast(F, s0 * d0[b]), a00);
            p = lo1.mul(ShortVector.fromArray(S, x0, o + 32)).add(hi1.mul(ShortVector.fromArray(S, x0, o + 48))).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a01 = v.fma(FloatVector.broadcast(F, s1 * d0[b + 1]), a01);
            p = lo0.mul(ShortVector.fromArray(S, x1, o)).add(hi0.mul(ShortVector.fromArray(S, x1, o + 16))).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a10 = v.fma(FloatVector.broadcast(F, s0 * d1[b]), a10);
            p = lo1.mul(ShortVector.fromArray(S, x1, o + 32)).add(hi1.mul(ShortVector.fromArray(S, x1, o + 48))).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a11 = v.fma(FloatVector.broadcast(F, s1 * d1[b + 1]), a11);
            p = lo0.mul(ShortVector.fromArray(S, x2, o)).add(hi0.mul(ShortVector.fromArray(S, x2, o + 16))).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a20 = v.fma(FloatVector.broadcast(F, s0 * d2[b]), a20);
            p = lo1.mul(ShortVector.fromArray(S, x2, o + 32)).add(hi1.mul(ShortVector.fromArray(S, x2, o + 48))).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a21 = v.fma(FloatVector.broadcast(F, s1 * d2[b + 1]), a21);
            p = lo0.mul(ShortVector.fromArray(S, x3, o)).add(hi0.mul(ShortVector.fromArray(S, x3, o + 16))).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a30 = v.fma(FloatVector.broadcast(F, s0 * d3[b]), a30);
            p = lo1.mul(ShortVector.fromArray(S, x3, o + 32)).add(hi1.mul(ShortVector.fromArray(S, x3, o + 48))).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a31 = v.fma(FloatVector.broadcast(F, s1 * d3[b + 1]), a31);
        }
        // Lane sums through a scratch array: passing the vectors to a method that is not inlined would box them.
        a00.add(a01).intoArray(lanes, 0);
        a10.add(a11).intoArray(lanes, 8);
        a20.add(a21).intoArray(lanes, 16);
        a30.add(a31).intoArray(lanes, 24);
        for (int k = 0; k < 4; k++) {
            float sum = Dot.sumLanes8(lanes, 8 * k);
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
