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
    private static final VectorSpecies<Byte> B512 = ByteVector.SPECIES_512;
    private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> F128 = FloatVector.SPECIES_128;
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
     * Scales 8 * upper .. 8 * upper + 7 as {@link #scale} gives them plus 32 (0..63), one per byte: read once per
     * super-block, so the kernel's inner loop only shifts and masks a register.
     */
    static long scalesPlus32(long lo, int hi, int upper) {
        long low = upper == 0 ? lo & 0x0F0F0F0F0F0F0F0FL : (lo >>> 4) & 0x0F0F0F0F0F0F0F0FL;
        int shift = 4 * upper;
        long high = ((hi >>> shift) & 0x03030303L) | ((hi >>> (shift + 2)) & 0x03030303L) << 32;
        return low | high << 4;
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
            // Both halves' 2-bit quants in one 64-byte load, each half widened in place; the loop runs over the bit
            // pairs (j), the halves are written out (a vector's half must be a constant to be widened in place).
            long scales0 = scalesPlus32(scLo, scHi, 0);
            long scales1 = scalesPlus32(scLo, scHi, 1);
            ByteVector quants = ByteVector.fromMemorySegment(B512, data, block + 32, ByteOrder.LITTLE_ENDIAN);
            ShortVector q0 = (ShortVector) quants.convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector q1 = (ShortVector) quants.convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 1);
            for (int j = 0; j < 4; j += 2) {
                {
                    int g = 2 * j;
                    int o = 256 * sb + 16 * g;
                    int bit = j;
                    int scA = ((int) (scales0 >>> (16 * j)) & 0xFF) - 32;
                    int scB = ((int) (scales0 >>> (16 * j + 8)) & 0xFF) - 32;
                    int scC = ((int) (scales0 >>> (16 * j + 16)) & 0xFF) - 32;
                    int scD = ((int) (scales0 >>> (16 * j + 24)) & 0xFF) - 32;
                    ShortVector v0 = q0.lanewise(VectorOperators.LSHR, 2 * j).and((short) 3)
                            .or(h.lanewise(VectorOperators.LSHR, bit).and((short) 1).lanewise(VectorOperators.LSHL, 2));
                    IntVector p0 = v0.mul(ShortVector.fromArray(S512, xq, o)).reinterpretAsInts();
                    FloatVector s0 = (FloatVector) p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                            .convert(VectorOperators.I2F, 0);
                    acc0 = s0.fma(FloatVector.broadcast(F512, d * scA).blend(d * scB, SECOND_GROUP), acc0);
                    ShortVector v1 = q0.lanewise(VectorOperators.LSHR, 2 * j + 2).and((short) 3)
                            .or(h.lanewise(VectorOperators.LSHR, bit + 1).and((short) 1).lanewise(VectorOperators.LSHL, 2));
                    IntVector p1 = v1.mul(ShortVector.fromArray(S512, xq, o + 32)).reinterpretAsInts();
                    FloatVector s1 = (FloatVector) p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                            .convert(VectorOperators.I2F, 0);
                    acc1 = s1.fma(FloatVector.broadcast(F512, d * scC).blend(d * scD, SECOND_GROUP), acc1);
                    int bs = 16 * sb + g;
                    offsets += scA * bsums[bs] + scB * bsums[bs + 1] + scC * bsums[bs + 2] + scD * bsums[bs + 3];
                }
                {
                    int g = 8 + 2 * j;
                    int o = 256 * sb + 16 * g;
                    int bit = 4 + j;
                    int scA = ((int) (scales1 >>> (16 * j)) & 0xFF) - 32;
                    int scB = ((int) (scales1 >>> (16 * j + 8)) & 0xFF) - 32;
                    int scC = ((int) (scales1 >>> (16 * j + 16)) & 0xFF) - 32;
                    int scD = ((int) (scales1 >>> (16 * j + 24)) & 0xFF) - 32;
                    ShortVector v0 = q1.lanewise(VectorOperators.LSHR, 2 * j).and((short) 3)
                            .or(h.lanewise(VectorOperators.LSHR, bit).and((short) 1).lanewise(VectorOperators.LSHL, 2));
                    IntVector p0 = v0.mul(ShortVector.fromArray(S512, xq, o)).reinterpretAsInts();
                    FloatVector s0 = (FloatVector) p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                            .convert(VectorOperators.I2F, 0);
                    acc0 = s0.fma(FloatVector.broadcast(F512, d * scA).blend(d * scB, SECOND_GROUP), acc0);
                    ShortVector v1 = q1.lanewise(VectorOperators.LSHR, 2 * j + 2).and((short) 3)
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
        // Dot.sumLanes written out (same additions, same order): see Q4KMatrix#dotQ8K.
        FloatVector acc = acc0.add(acc1);
        FloatVector h8 = ((FloatVector) acc.reinterpretShape(F256, 0)).add((FloatVector) acc.reinterpretShape(F256, 1));
        FloatVector h4 = ((FloatVector) h8.reinterpretShape(F128, 0)).add((FloatVector) h8.reinterpretShape(F128, 1));
        return (h4.lane(0) + h4.lane(1)) + (h4.lane(2) + h4.lane(3)) - offsetTerm;
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
