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
 * Q3_K weights: super-blocks of 256 values, hmask[32] at 0, qs[64] at 32 (low 2 bits, laid out as Q2_K's), twelve
 * bytes of sixteen 6-bit scales at 96 (stored plus 32) and f16 d at 108. Value 128h + 32j + l has its low bits
 * from qs as in {@link Q2KMatrix} and bit 4h + j of hmask[l] (l < 32) set when it is not to have 4 subtracted:
 * value = d * (sc - 32) * (low | high << 2 - 4). The 4 is taken out through the Q8_K sums; the products of
 * 0..7 with the activations go through integer lanes as in the other K-quants.
 */
final class Q3KMatrix extends KQuantMatrix {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    /** Int lanes 8..15: the second group of 16 values of a 32-value step. */
    private static final VectorMask<Float> SECOND_GROUP = VectorMask.fromLong(F512, 0xFF00L);
    private static final int BLOCK_BYTES = 110;

    Q3KMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q3_K, data, rows, cols);
    }

    /** Scale i (0..15) minus 32 from the twelve packed bytes (lo: bytes 0..7, hi: bytes 8..11): low 4 bits from
     * byte i (i < 8, low nibble) or i - 8 (high nibble), high 2 bits from byte 8 + i % 4 at bit 2 * (i / 4). */
    static int scale(long lo, int hi, int i) {
        int low = (int) (lo >>> (8 * (i & 7) + (i & 8) / 2)) & 0xF;
        int high = (hi >>> (8 * (i & 3) + 2 * (i >>> 2))) & 3;
        return (low | high << 4) - 32;
    }

    /**
     * Two groups of 16 values per step, as {@link Q2KMatrix#dotQ8K}: 32 bytes of qs and the 32 bytes of hmask
     * zero-extended into 32 16-bit lanes each, so one shift, mask and OR per step make the 3-bit values of both
     * groups; two accumulators. Written out without vector-returning helpers, for the reason given in
     * {@link Q8Matrix#dotQ8}.
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
            float d = Bits.f16(data, block + 108) * a.d[sb];
            ShortVector h = (ShortVector) ByteVector.fromMemorySegment(B256, data, block, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            long scLo = data.get(Bits.LE_LONG, block + 96);
            int scHi = data.get(Bits.LE_INT, block + 104);
            int offsets = 0;
            for (int half = 0; half < 2; half++) {
                ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B256, data, block + 32 + 32L * half, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
                for (int j = 0; j < 4; j += 2) {
                    int g = 8 * half + 2 * j;
                    int o = 256 * sb + 16 * g;
                    int bit = 4 * half + j;
                    int scA = scale(scLo, scHi, g);
                    int scB = scale(scLo, scHi, g + 1);
                    int scC = scale(scLo, scHi, g + 2);
                    int scD = scale(scLo, scHi, g + 3);
                    ShortVector v0 = q.lanewise(VectorOperators.LSHR, 2 * j).and((short) 3)
                            .or(h.lanewise(VectorOperators.LSHR, bit).and((short) 1).lanewise(VectorOperators.LSHL, 2));
                    IntVector p0 = v0.mul(ShortVector.fromArray(S512, xq, o)).reinterpretAsInts();
                    FloatVector s0 = (FloatVector) p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                            .convert(VectorOperators.I2F, 0);
                    acc0 = s0.fma(FloatVector.broadcast(F512, d * scA).blend(d * scB, SECOND_GROUP), acc0);
                    ShortVector v1 = q.lanewise(VectorOperators.LSHR, 2 * j + 2).and((short) 3)
                            .or(h.lanewise(VectorOperators.LSHR, bit + 1).and((short) 1).lanewise(VectorOperators.LSHL, 2));
                    IntVector p1 = v1.mul(ShortVector.fromArray(S512, xq, o + 32)).reinterpretAsInts();
                    FloatVector s1 = (FloatVector) p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                            .convert(VectorOperators.I2F, 0);
                    acc1 = s1.fma(FloatVector.broadcast(F512, d * scC).blend(d * scD, SECOND_GROUP), acc1);
                    int bs = 16 * sb + g;
                    offsets += scA * bsums[bs] + scB * bsums[bs + 1] + scC * bsums[bs + 2] + scD * bsums[bs + 3];
                }
            }
            offsetTerm += d * (4 * offsets);
        }
        return Dot.sumLanes(acc0.add(acc1)) - offsetTerm;
    }

    /**
     * The row as floats, as the codec decodes it: per 16 values, (d * (sc - 32)) * (low | high << 2 - 4), the high
     * bit being bit 4h + j of hmask[l].
     */
    @Override
    void decodeRow(int row, float[] dst, int off) {
        if (!VECTOR) {
            super.decodeRow(row, dst, off);
            return;
        }
        long block = row * rowBytes;
        for (int o = off; o < off + cols; o += 256, block += BLOCK_BYTES) {
            float d = Bits.f16(data, block + 108);
            long scLo = data.get(Bits.LE_LONG, block + 96);
            int scHi = data.get(Bits.LE_INT, block + 104);
            IntVector ha = (IntVector) ByteVector.fromMemorySegment(B, data, block, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
            IntVector hb = (IntVector) ByteVector.fromMemorySegment(B, data, block + 16, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
            for (int half = 0; half < 2; half++) {
                IntVector qa = (IntVector) ByteVector.fromMemorySegment(B, data, block + 32 + 32L * half, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
                IntVector qb = (IntVector) ByteVector.fromMemorySegment(B, data, block + 48 + 32L * half, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
                for (int j = 0; j < 4; j++) {
                    int g = 8 * half + 2 * j;
                    int bit = 4 * half + j;
                    int y = o + 16 * g;
                    IntVector va = qa.lanewise(VectorOperators.LSHR, 2 * j).and(3)
                            .add(ha.lanewise(VectorOperators.LSHR, bit).and(1).lanewise(VectorOperators.LSHL, 2)).sub(4);
                    ((FloatVector) va.convert(VectorOperators.I2F, 0)).mul(d * scale(scLo, scHi, g)).intoArray(dst, y);
                    IntVector vb = qb.lanewise(VectorOperators.LSHR, 2 * j).and(3)
                            .add(hb.lanewise(VectorOperators.LSHR, bit).and(1).lanewise(VectorOperators.LSHL, 2)).sub(4);
                    ((FloatVector) vb.convert(VectorOperators.I2F, 0)).mul(d * scale(scLo, scHi, g + 1)).intoArray(dst, y + 16);
                }
            }
        }
    }
}
