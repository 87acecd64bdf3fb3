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
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final int BLOCK_BYTES = 144;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> F128 = FloatVector.SPECIES_128;
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Byte> B512 = ByteVector.SPECIES_512;
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;

    Q4KMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_K, data, rows, cols);
    }

    /**
     * A sub-block pair (64 values, 32 bytes) per 512-bit step: the 32 bytes zero-extended to 32 16-bit lanes, low
     * nibbles (sub-block 2k) and high nibbles (2k+1) each times their 32 activations in one multiply, neighbouring
     * products added into 16 int lanes, converted and scaled. Two pairs per pass from one 64-byte load, each half
     * widened in place (the half must be a constant, so the two are written out): with one pair per pass the loop's
     * overhead (C2 splits a four-pass inner loop into pre-, main and post-loops, with their checks, once per
     * super-block) cost about a fifth of decode time. Written out without vector-returning helpers, for the reason
     * given in {@link Q8Matrix#dotQ8}.
     */
    @Override
    float dotQ8K(int row, Q8KActivations a) {
        long block = row * rowBytes;
        short[] xq = a.qs;
        int[] bsums = a.bsums;
        FloatVector acc0 = FloatVector.zero(F512);
        FloatVector acc1 = FloatVector.zero(F512);
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
            for (int k = 0; k < 4; k += 2) {
                ByteVector bytes = ByteVector.fromMemorySegment(B512, data, block + 16 + 32L * k, ByteOrder.LITTLE_ENDIAN);
                int o = 256 * sb + 64 * k;
                long sc = scales >>> (16 * k);
                long mn = minima >>> (16 * k);
                ShortVector q = (ShortVector) bytes.convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
                IntVector p;
                p = q.and((short) 0x0F).mul(ShortVector.fromArray(S512, xq, o)).reinterpretAsInts();
                acc0 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F512, d * (int) (sc & 0xFF)), acc0);
                p = q.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S512, xq, o + 32)).reinterpretAsInts();
                acc1 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F512, d * (int) ((sc >>> 8) & 0xFF)), acc1);
                q = (ShortVector) bytes.convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 1);
                p = q.and((short) 0x0F).mul(ShortVector.fromArray(S512, xq, o + 64)).reinterpretAsInts();
                acc0 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F512, d * (int) ((sc >>> 16) & 0xFF)), acc0);
                p = q.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S512, xq, o + 96)).reinterpretAsInts();
                acc1 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F512, d * (int) ((sc >>> 24) & 0xFF)), acc1);
                int g = 16 * sb + 4 * k;
                mins += (int) (mn & 0xFF) * (bsums[g] + bsums[g + 1]) + (int) ((mn >>> 8) & 0xFF) * (bsums[g + 2] + bsums[g + 3])
                        + (int) ((mn >>> 16) & 0xFF) * (bsums[g + 4] + bsums[g + 5]) + (int) ((mn >>> 24) & 0xFF) * (bsums[g + 6] + bsums[g + 7]);
            }
            minTerm += dmin * mins;
        }
        // Dot.sumLanes written out, the same additions in the same order: this method is large enough that C2 stops
        // inlining ordinary calls in it, and the vector passed to a call that is not inlined is allocated.
        FloatVector acc = acc0.add(acc1);
        FloatVector h8 = ((FloatVector) acc.reinterpretShape(F256, 0)).add((FloatVector) acc.reinterpretShape(F256, 1));
        FloatVector h4 = ((FloatVector) h8.reinterpretShape(F128, 0)).add((FloatVector) h8.reinterpretShape(F128, 1));
        return (h4.lane(0) + h4.lane(1)) + (h4.lane(2) + h4.lane(3)) - minTerm;
    }

    @Override
    boolean hasTile4() {
        return true;
    }

    /**
     * Four vectors per row with {@link #dotQ8K}'s arithmetic: each sub-block pair is loaded and split once for the
     * four. One pair per pass here: two, as in dotQ8K, made this about 10% slower (JMH matmul4, one thread,
     * 8192 x 8192: 10.8-11.3 -> 12.2-12.4 ms).
     */
    @Override
    void tile4(int row, Q8KActivations[] a, int t, float[][] outs, float[] lanes) {
        long block = row * rowBytes;
        Q8KActivations v0 = a[t], v1 = a[t + 1], v2 = a[t + 2], v3 = a[t + 3];
        FloatVector a00 = FloatVector.zero(F512), a01 = FloatVector.zero(F512), a10 = FloatVector.zero(F512), a11 = FloatVector.zero(F512);
        FloatVector a20 = FloatVector.zero(F512), a21 = FloatVector.zero(F512), a30 = FloatVector.zero(F512), a31 = FloatVector.zero(F512);
        float m0 = 0f, m1 = 0f, m2 = 0f, m3 = 0f;
        for (int sb = 0; sb < cols / 256; sb++, block += BLOCK_BYTES) {
            float fd = Bits.f16(data, block);
            float fmin = Bits.f16(data, block + 2);
            float d0 = fd * v0.d[sb], d1 = fd * v1.d[sb], d2 = fd * v2.d[sb], d3 = fd * v3.d[sb];
            long lo = data.get(Bits.LE_LONG, block + 4);
            int hi = data.get(Bits.LE_INT, block + 12);
            long scales = q4kScales(lo, hi);
            long minima = q4kMins(lo, hi);
            int n0 = 0, n1 = 0, n2 = 0, n3 = 0;
            for (int k = 0; k < 4; k++) {
                ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B256, data, block + 16 + 32L * k, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
                ShortVector l = q.and((short) 0x0F);
                ShortVector h = q.lanewise(VectorOperators.LSHR, 4);
                int o = 256 * sb + 64 * k;
                long sc = scales >>> (16 * k);
                long mn = minima >>> (16 * k);
                int scLo = (int) (sc & 0xFF);
                int scHi = (int) ((sc >>> 8) & 0xFF);
                int mnLo = (int) (mn & 0xFF);
                int mnHi = (int) ((mn >>> 8) & 0xFF);
                int g = 16 * sb + 4 * k;
                IntVector p;
                p = l.mul(ShortVector.fromArray(S512, v0.qs, o)).reinterpretAsInts();
                a00 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F512, d0 * scLo), a00);
                p = h.mul(ShortVector.fromArray(S512, v0.qs, o + 32)).reinterpretAsInts();
                a01 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F512, d0 * scHi), a01);
                n0 += mnLo * (v0.bsums[g] + v0.bsums[g + 1]) + mnHi * (v0.bsums[g + 2] + v0.bsums[g + 3]);
                p = l.mul(ShortVector.fromArray(S512, v1.qs, o)).reinterpretAsInts();
                a10 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F512, d1 * scLo), a10);
                p = h.mul(ShortVector.fromArray(S512, v1.qs, o + 32)).reinterpretAsInts();
                a11 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F512, d1 * scHi), a11);
                n1 += mnLo * (v1.bsums[g] + v1.bsums[g + 1]) + mnHi * (v1.bsums[g + 2] + v1.bsums[g + 3]);
                p = l.mul(ShortVector.fromArray(S512, v2.qs, o)).reinterpretAsInts();
                a20 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F512, d2 * scLo), a20);
                p = h.mul(ShortVector.fromArray(S512, v2.qs, o + 32)).reinterpretAsInts();
                a21 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F512, d2 * scHi), a21);
                n2 += mnLo * (v2.bsums[g] + v2.bsums[g + 1]) + mnHi * (v2.bsums[g + 2] + v2.bsums[g + 3]);
                p = l.mul(ShortVector.fromArray(S512, v3.qs, o)).reinterpretAsInts();
                a30 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F512, d3 * scLo), a30);
                p = h.mul(ShortVector.fromArray(S512, v3.qs, o + 32)).reinterpretAsInts();
                a31 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F512, d3 * scHi), a31);
                n3 += mnLo * (v3.bsums[g] + v3.bsums[g + 1]) + mnHi * (v3.bsums[g + 2] + v3.bsums[g + 3]);
            }
            m0 += (fmin * v0.d[sb]) * n0;
            m1 += (fmin * v1.d[sb]) * n1;
            m2 += (fmin * v2.d[sb]) * n2;
            m3 += (fmin * v3.d[sb]) * n3;
        }
        // Lane sums through a scratch array: passing the vectors to a method that is not inlined would box them.
        a00.add(a01).intoArray(lanes, 0);
        a10.add(a11).intoArray(lanes, 16);
        a20.add(a21).intoArray(lanes, 32);
        a30.add(a31).intoArray(lanes, 48);
        outs[t][row] = Dot.sumLanes16(lanes, 0) - m0;
        outs[t + 1][row] = Dot.sumLanes16(lanes, 16) - m1;
        outs[t + 2][row] = Dot.sumLanes16(lanes, 32) - m2;
        outs[t + 3][row] = Dot.sumLanes16(lanes, 48) - m3;
    }

    /** The row as floats, as ggml decodes it: d * sc * q - dmin * m per sub-block of 32. */
    @Override
    void decodeRow(int row, float[] dst, int off) {
        if (!VECTOR) {
            super.decodeRow(row, dst, off);
            return;
        }
        long block = row * rowBytes;
        for (int j = off; j < off + cols; j += 256, block += BLOCK_BYTES) {
            float d = Bits.f16(data, block);
            float dmin = Bits.f16(data, block + 2);
            long lo = data.get(Bits.LE_LONG, block + 4);
            int hi = data.get(Bits.LE_INT, block + 12);
            long scales = q4kScales(lo, hi);
            long minima = q4kMins(lo, hi);
            for (int k = 0; k < 4; k++) {
                long qs = block + 16 + 32L * k;
                float d1 = d * (int) ((scales >>> (16 * k)) & 0xFF);
                float m1 = dmin * (int) ((minima >>> (16 * k)) & 0xFF);
                float d2 = d * (int) ((scales >>> (16 * k + 8)) & 0xFF);
                float m2 = dmin * (int) ((minima >>> (16 * k + 8)) & 0xFF);
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, data, qs, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, data, qs + 16, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
                int o = j + 64 * k;
                ((FloatVector) q0.and(0x0F).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(dst, o);
                ((FloatVector) q1.and(0x0F).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(dst, o + 16);
                ((FloatVector) q0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).intoArray(dst, o + 32);
                ((FloatVector) q1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).intoArray(dst, o + 48);
            }
        }
    }
}
