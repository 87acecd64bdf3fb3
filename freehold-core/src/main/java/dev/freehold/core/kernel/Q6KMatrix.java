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
import jdk.incubator.vector.VectorSpecies;

/**
 * Q6_K weights: super-blocks of 256 values, ql[128] (low 4 bits) at 0, qh[64] (high 2 bits) at 128, 16 signed 8-bit
 * scales at 192 (one per 16 values) and f16 d at 208. Each half of 128 values takes 64 ql bytes and 32 qh bytes:
 * value l + 32t (l < 32, t < 4) has low bits from ql[l] (t = 0, 2: low/high nibble) or ql[l + 32] (t = 1, 3) and
 * high bits (qh[l] >> 2t) & 3, minus 32. As in ggml, the activations are quantised to Q8_K; the 6-bit values are
 * multiplied unsigned (0..63, at most 63 * 128 per product, two per lane) and the 32 subtracted through the Q8_K
 * sums of each 16 activations, which line up with the weights' scale groups. This is the type llama.cpp's Q4_K_M
 * and Q5_K_M mixes use for the output and some FFN tensors. Needs AVX-512 vectors; elsewhere the reference path.
 */
final class Q6KMatrix extends KQuantMatrix {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final int BLOCK_BYTES = 210;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Byte> B512 = ByteVector.SPECIES_512;
    private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> F128 = FloatVector.SPECIES_128;
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorMask<Float> SECOND_GROUP = VectorMask.fromLong(F512, 0xFF00L);

    Q6KMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q6_K, data, rows, cols);
    }

    /**
     * Half a super-block (128 values) per step in 512-bit vectors: 64 bytes of low bits (one load, each half
     * widened in place) and 32 of high bits zero-extended to 32 16-bit lanes, the four 6-bit values of each position assembled there, each times its 32
     * activations, neighbouring products added into 16 int lanes (lanes 0..7 one scale group of 16 values, 8..15 the
     * next) and scaled by a vector holding the two groups' scales. Written out without vector-returning helpers, for
     * the reason given in {@link Q8Matrix#dotQ8}.
     */
    @Override
    float dotQ8K(int row, Q8KActivations a) {
        long block = row * rowBytes;
        short[] xq = a.qs;
        int[] bsums = a.bsums;
        FloatVector acc0 = FloatVector.zero(F512);
        FloatVector acc1 = FloatVector.zero(F512);
        float offsetTerm = 0f;
        for (int sb = 0; sb < cols / 256; sb++, block += BLOCK_BYTES) {
            float d = Bits.f16(data, block + 208) * a.d[sb];
            // Scales are read into registers once per super-block: loading them from the segment inside the inner
            // loop made C2's code several times slower (measured on Q3_K, where the effect was up to 9x).
            long scalesLo = data.get(Bits.LE_LONG, block + 192);
            long scalesHi = data.get(Bits.LE_LONG, block + 200);
            int offsets = 0;
            for (int half = 0; half < 2; half++) {
                long ql = block + 64L * half;
                ByteVector low = ByteVector.fromMemorySegment(B512, data, ql, ByteOrder.LITTLE_ENDIAN);
                ShortVector l0 = (ShortVector) low.convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
                ShortVector l1 = (ShortVector) low.convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 1);
                ShortVector hb = (ShortVector) ByteVector.fromMemorySegment(B256, data, block + 128 + 32L * half, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
                int o = 256 * sb + 128 * half;
                long scales = half == 0 ? scalesLo : scalesHi; // byte 2t + j: the scale of values 32t + 16j .. + 16
                int sc0 = (byte) scales, sc1 = (byte) (scales >>> 8), sc2 = (byte) (scales >>> 16), sc3 = (byte) (scales >>> 24);
                int sc4 = (byte) (scales >>> 32), sc5 = (byte) (scales >>> 40), sc6 = (byte) (scales >>> 48), sc7 = (byte) (scales >>> 56);
                IntVector p;

                p = l0.and((short) 0x0F).add(hb.lanewise(VectorOperators.LSHL, 4).and((short) 0x30))
                        .mul(ShortVector.fromArray(S512, xq, o)).reinterpretAsInts();
                acc0 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F512, d * sc0).blend(d * sc1, SECOND_GROUP), acc0);
                p = l1.and((short) 0x0F).add(hb.lanewise(VectorOperators.LSHL, 2).and((short) 0x30))
                        .mul(ShortVector.fromArray(S512, xq, o + 32)).reinterpretAsInts();
                acc1 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F512, d * sc2).blend(d * sc3, SECOND_GROUP), acc1);
                p = l0.lanewise(VectorOperators.LSHR, 4).add(hb.and((short) 0x30))
                        .mul(ShortVector.fromArray(S512, xq, o + 64)).reinterpretAsInts();
                acc0 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F512, d * sc4).blend(d * sc5, SECOND_GROUP), acc0);
                p = l1.lanewise(VectorOperators.LSHR, 4).add(hb.lanewise(VectorOperators.LSHR, 2).and((short) 0x30))
                        .mul(ShortVector.fromArray(S512, xq, o + 96)).reinterpretAsInts();
                acc1 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F512, d * sc6).blend(d * sc7, SECOND_GROUP), acc1);

                int bs = 16 * sb + 8 * half;
                offsets += sc0 * bsums[bs] + sc1 * bsums[bs + 1] + sc2 * bsums[bs + 2] + sc3 * bsums[bs + 3]
                        + sc4 * bsums[bs + 4] + sc5 * bsums[bs + 5] + sc6 * bsums[bs + 6] + sc7 * bsums[bs + 7];
            }
            offsetTerm += d * (32 * offsets);
        }
        // Dot.sumLanes written out (same additions, same order): see Q4KMatrix#dotQ8K.
        FloatVector acc = acc0.add(acc1);
        FloatVector h8 = ((FloatVector) acc.reinterpretShape(F256, 0)).add((FloatVector) acc.reinterpretShape(F256, 1));
        FloatVector h4 = ((FloatVector) h8.reinterpretShape(F128, 0)).add((FloatVector) h8.reinterpretShape(F128, 1));
        return (h4.lane(0) + h4.lane(1)) + (h4.lane(2) + h4.lane(3)) - offsetTerm;
    }

    /**
     * The row as floats, as ggml decodes it: per 16 values (d * scale) * (6-bit value - 32). Sixteen values per
     * vector: for l in a half's 32 positions, ql[l] and ql[l + 32] give the low nibbles of values l, l + 32 (low
     * nibble) and l + 64, l + 96 (high nibble), qh[l] their high bits two at a time.
     */
    @Override
    void decodeRow(int row, float[] dst, int off) {
        if (!VECTOR) {
            super.decodeRow(row, dst, off);
            return;
        }
        long block = row * rowBytes;
        for (int j = off; j < off + cols; j += 256, block += BLOCK_BYTES) {
            float d = Bits.f16(data, block + 208);
            for (int half = 0; half < 2; half++) {
                long ql = block + 64L * half;
                long qh = block + 128 + 32L * half;
                long sc = block + 192 + 8L * half;
                int o = j + 128 * half;
                for (int c = 0; c < 2; c++) {
                    IntVector lo = (IntVector) ByteVector.fromMemorySegment(B, data, ql + 16 * c, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
                    IntVector lo2 = (IntVector) ByteVector.fromMemorySegment(B, data, ql + 32 + 16 * c, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
                    IntVector hi = (IntVector) ByteVector.fromMemorySegment(B, data, qh + 16 * c, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
                    IntVector q1 = lo.and(0x0F).or(hi.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q2 = lo2.and(0x0F).or(hi.lanewise(VectorOperators.LSHR, 2).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q3 = lo.lanewise(VectorOperators.LSHR, 4).or(hi.lanewise(VectorOperators.LSHR, 4).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q4 = lo2.lanewise(VectorOperators.LSHR, 4).or(hi.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    int p = o + 16 * c;
                    ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul(d * Bits.s8(data, sc + c)).intoArray(dst, p);
                    ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul(d * Bits.s8(data, sc + c + 2)).intoArray(dst, p + 32);
                    ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul(d * Bits.s8(data, sc + c + 4)).intoArray(dst, p + 64);
                    ((FloatVector) q4.convert(VectorOperators.I2F, 0)).mul(d * Bits.s8(data, sc + c + 6)).intoArray(dst, p + 96);
                }
            }
        }
    }
}
