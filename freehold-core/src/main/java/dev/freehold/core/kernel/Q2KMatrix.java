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
 * Q2_K weights: super-blocks of 256 values, scales[16] at 0 (per 16 values: scale in the low nibble, min in the
 * high one), qs[64] at 16 (2-bit values), f16 d at 80 and dmin at 82. Each half of 128 values takes 32 bytes of qs:
 * value 32j + l (l < 16) is bits 2j..2j+1 of byte l, value 32j + 16 + l of byte 16 + l. value = d*sc*q - dmin*m.
 * With Q8_K activations: per group of 16, d*sc*sum(q*qx) in integer lanes, the minima through the Q8_K sums.
 */
final class Q2KMatrix extends KQuantMatrix {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Byte> B512 = ByteVector.SPECIES_512;
    private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> F128 = FloatVector.SPECIES_128;
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    /** Int lanes 8..15: the second group of 16 values of a 32-value step. */
    private static final VectorMask<Float> SECOND_GROUP = VectorMask.fromLong(F512, 0xFF00L);
    private static final int BLOCK_BYTES = 84;

    Q2KMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q2_K, data, rows, cols);
    }

    /**
     * Two groups of 16 values (one 32-byte load of qs, zero-extended into 32 16-bit lanes) per step, times 32
     * activations, neighbouring lanes added into 16 int lanes (lanes 0..7 the first group, 8..15 the second),
     * converted and scaled by a vector holding each group's d * sc; two accumulators, so that consecutive steps do
     * not wait on each other's multiply-add. Written out without vector-returning helpers, for the reason given in
     * {@link Q8Matrix#dotQ8}.
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
            float d = Bits.f16(data, block + 80) * dx;
            float dmin = Bits.f16(data, block + 82) * dx;
            // the 16 scale bytes in registers once per super-block (loads from the segment in the inner loop
            // cost several times the loop's arithmetic, see Q6KMatrix)
            long scalesLo = data.get(Bits.LE_LONG, block);
            long scalesHi = data.get(Bits.LE_LONG, block + 8);
            int mins = 0;
            // Both halves' 2-bit quants in one 64-byte load, each half widened in place; the loop runs over the bit
            // pairs (j), the halves are written out (a vector's half must be a constant to be widened in place).
            ByteVector quants = ByteVector.fromMemorySegment(B512, data, block + 16, ByteOrder.LITTLE_ENDIAN);
            ShortVector q0 = (ShortVector) quants.convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            ShortVector q1 = (ShortVector) quants.convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 1);
            for (int j = 0; j < 4; j += 2) {
                {
                    long scales = scalesLo;
                    int g = 2 * j; // 16-value groups g .. g + 3 (values 16g .. 16g + 63) and their scales
                    int o = 256 * sb + 16 * g;
                    int scA = (int) (scales >>> (16 * j)) & 0xFF;
                    int scB = (int) (scales >>> (16 * j + 8)) & 0xFF;
                    int scC = (int) (scales >>> (16 * j + 16)) & 0xFF;
                    int scD = (int) (scales >>> (16 * j + 24)) & 0xFF;
                    IntVector p0 = q0.lanewise(VectorOperators.LSHR, 2 * j).and((short) 3).mul(ShortVector.fromArray(S512, xq, o)).reinterpretAsInts();
                    FloatVector s0 = (FloatVector) p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                            .convert(VectorOperators.I2F, 0);
                    acc0 = s0.fma(FloatVector.broadcast(F512, d * (scA & 0xF)).blend(d * (scB & 0xF), SECOND_GROUP), acc0);
                    IntVector p1 = q0.lanewise(VectorOperators.LSHR, 2 * j + 2).and((short) 3).mul(ShortVector.fromArray(S512, xq, o + 32)).reinterpretAsInts();
                    FloatVector s1 = (FloatVector) p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                            .convert(VectorOperators.I2F, 0);
                    acc1 = s1.fma(FloatVector.broadcast(F512, d * (scC & 0xF)).blend(d * (scD & 0xF), SECOND_GROUP), acc1);
                    int bs = 16 * sb + g;
                    mins += (scA >>> 4) * bsums[bs] + (scB >>> 4) * bsums[bs + 1] + (scC >>> 4) * bsums[bs + 2] + (scD >>> 4) * bsums[bs + 3];
                }
                {
                    long scales = scalesHi;
                    int g = 8 + 2 * j;
                    int o = 256 * sb + 16 * g;
                    int scA = (int) (scales >>> (16 * j)) & 0xFF;
                    int scB = (int) (scales >>> (16 * j + 8)) & 0xFF;
                    int scC = (int) (scales >>> (16 * j + 16)) & 0xFF;
                    int scD = (int) (scales >>> (16 * j + 24)) & 0xFF;
                    IntVector p0 = q1.lanewise(VectorOperators.LSHR, 2 * j).and((short) 3).mul(ShortVector.fromArray(S512, xq, o)).reinterpretAsInts();
                    FloatVector s0 = (FloatVector) p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                            .convert(VectorOperators.I2F, 0);
                    acc0 = s0.fma(FloatVector.broadcast(F512, d * (scA & 0xF)).blend(d * (scB & 0xF), SECOND_GROUP), acc0);
                    IntVector p1 = q1.lanewise(VectorOperators.LSHR, 2 * j + 2).and((short) 3).mul(ShortVector.fromArray(S512, xq, o + 32)).reinterpretAsInts();
                    FloatVector s1 = (FloatVector) p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                            .convert(VectorOperators.I2F, 0);
                    acc1 = s1.fma(FloatVector.broadcast(F512, d * (scC & 0xF)).blend(d * (scD & 0xF), SECOND_GROUP), acc1);
                    int bs = 16 * sb + g;
                    mins += (scA >>> 4) * bsums[bs] + (scB >>> 4) * bsums[bs + 1] + (scC >>> 4) * bsums[bs + 2] + (scD >>> 4) * bsums[bs + 3];
                }
            }
            minTerm += dmin * mins;
        }
        // Dot.sumLanes written out (same additions, same order): see Q4KMatrix#dotQ8K.
        FloatVector acc = acc0.add(acc1);
        FloatVector h8 = ((FloatVector) acc.reinterpretShape(F256, 0)).add((FloatVector) acc.reinterpretShape(F256, 1));
        FloatVector h4 = ((FloatVector) h8.reinterpretShape(F128, 0)).add((FloatVector) h8.reinterpretShape(F128, 1));
        return (h4.lane(0) + h4.lane(1)) + (h4.lane(2) + h4.lane(3)) - minTerm;
    }

    /**
     * The row as floats, as the codec decodes it: per 16 values, (d * (sc & 15)) * q - dmin * (sc >> 4), with q the
     * 2-bit field at bits 2j of bytes 32h + l (sub-block 8h + 2j for l < 16, 8h + 2j + 1 for the next 16).
     */
    @Override
    void decodeRow(int row, float[] dst, int off) {
        if (!VECTOR) {
            super.decodeRow(row, dst, off);
            return;
        }
        long block = row * rowBytes;
        for (int o = off; o < off + cols; o += 256, block += BLOCK_BYTES) {
            float d = Bits.f16(data, block + 80);
            float dmin = Bits.f16(data, block + 82);
            for (int half = 0; half < 2; half++) {
                IntVector qa = (IntVector) ByteVector.fromMemorySegment(B, data, block + 16 + 32L * half, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
                IntVector qb = (IntVector) ByteVector.fromMemorySegment(B, data, block + 32 + 32L * half, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
                for (int j = 0; j < 4; j++) {
                    int g = 8 * half + 2 * j;
                    int scA = Bits.u8(data, block + g);
                    int scB = Bits.u8(data, block + g + 1);
                    int y = o + 16 * g;
                    ((FloatVector) qa.lanewise(VectorOperators.LSHR, 2 * j).and(3).convert(VectorOperators.I2F, 0))
                            .mul(d * (scA & 0xF)).sub(dmin * (scA >>> 4)).intoArray(dst, y);
                    ((FloatVector) qb.lanewise(VectorOperators.LSHR, 2 * j).and(3).convert(VectorOperators.I2F, 0))
                            .mul(d * (scB & 0xF)).sub(dmin * (scB >>> 4)).intoArray(dst, y + 16);
                }
            }
        }
    }
}
