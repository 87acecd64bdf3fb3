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
     * added into 16 int lanes (the high half of p + (p << 16) is the pair's sum, at most 2 * 128 * 127, and the
     * arithmetic shift brings it down with its sign), converted to float and accumulated with the block's scale.
     * Two blocks per iteration into two accumulators, one lane sum at the end. The block code is written out twice
     * rather than called: a vector-returning helper that C2 has already compiled on its own (it may, when another
     * weight type ran first) is too big to inline again, and then every vector it returns is boxed.
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
            ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B, data, block + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, S, 0);
            IntVector p0 = w0.mul(ShortVector.fromArray(S, xq, 32 * b)).reinterpretAsInts();
            FloatVector s0 = (FloatVector) p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .convert(VectorOperators.I2F, 0);
            acc0 = s0.fma(FloatVector.broadcast(F, Bits.f16(data, block) * xd[b]), acc0);
            long block1 = block + BLOCK_BYTES;
            ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B, data, block1 + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, S, 0);
            IntVector p1 = w1.mul(ShortVector.fromArray(S, xq, 32 * b + 32)).reinterpretAsInts();
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
        short[] q0 = a[t].qs, q1 = a[t + 1].qs, q2 = a[t + 2].qs, q3 = a[t + 3].qs;
        float[] d0 = a[t].d, d1 = a[t + 1].d, d2 = a[t + 2].d, d3 = a[t + 3].d;
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a10 = FloatVector.zero(F), a11 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a30 = FloatVector.zero(F), a31 = FloatVector.zero(F);
        int nb = cols / 32;
        int b = 0;
        for (; b + 1 < nb; b += 2, block += 2 * BLOCK_BYTES) {
            long block1 = block + BLOCK_BYTES;
            ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B, data, block + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, S, 0);
            ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B, data, block1 + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, S, 0);
            float s0 = Bits.f16(data, block);
            float s1 = Bits.f16(data, block1);
            int o = 32 * b;
            IntVector p;
            FloatVector v;
            p = w0.mul(ShortVector.fromArray(S, q0, o)).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a00 = v.fma(FloatVector.broadcast(F, s0 * d0[b]), a00);
            p = w1.mul(ShortVector.fromArray(S, q0, o + 32)).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a01 = v.fma(FloatVector.broadcast(F, s1 * d0[b + 1]), a01);
            p = w0.mul(ShortVector.fromArray(S, q1, o)).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a10 = v.fma(FloatVector.broadcast(F, s0 * d1[b]), a10);
            p = w1.mul(ShortVector.fromArray(S, q1, o + 32)).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a11 = v.fma(FloatVector.broadcast(F, s1 * d1[b + 1]), a11);
            p = w0.mul(ShortVector.fromArray(S, q2, o)).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a20 = v.fma(FloatVector.broadcast(F, s0 * d2[b]), a20);
            p = w1.mul(ShortVector.fromArray(S, q2, o + 32)).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a21 = v.fma(FloatVector.broadcast(F, s1 * d2[b + 1]), a21);
            p = w0.mul(ShortVector.fromArray(S, q3, o)).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a30 = v.fma(FloatVector.broadcast(F, s0 * d3[b]), a30);
            p = w1.mul(ShortVector.fromArray(S, q3, o + 32)).reinterpretAsInts();
            v = (FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
            a31 = v.fma(FloatVector.broadcast(F, s1 * d3[b + 1]), a31);
        }
        // Lane sums through a scratch array: passing the vectors to a method that is not inlined would box them.
        a00.add(a01).intoArray(lanes, 0);
        a10.add(a11).intoArray(lanes, 16);
        a20.add(a21).intoArray(lanes, 32);
        a30.add(a31).intoArray(lanes, 48);
        for (int k = 0; k < 4; k++) {
            float sum = Dot.sumLanes16(lanes, 16 * k);
            if (b < nb) sum += blockScalar(block, a[t + k], b);
            outs[t + k][row] = sum;
        }
    }

    /** The row as floats, 16 weights per widening conversion. */
    @Override
    void decodeRow(int row, float[] dst, int off) {
        if (!VECTOR) {
            super.decodeRow(row, dst, off);
            return;
        }
        long block = row * rowBytes;
        for (int j = off; j < off + cols; j += 32, block += BLOCK_BYTES) {
            float d = Bits.f16(data, block);
            ((FloatVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, block + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, j);
            ((FloatVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, block + 18, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, j + 16);
        }
    }

    @Override
    int blockValue(long block, int j) {
        return Bits.s8(data, block + 2 + j);
    }
}
