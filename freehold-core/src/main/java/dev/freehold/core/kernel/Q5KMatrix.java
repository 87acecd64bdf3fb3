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
 * Q5_K weights: Q4_K's layout (f16 d and dmin, twelve bytes of 6-bit scales and mins) with the fifth bit of each
 * value in qh[32] at 16 and the nibbles at 48: bytes 32k..32k+31 of the nibbles hold sub-blocks 2k (low) and
 * 2k+1 (high), and bit 2k / 2k+1 of qh[l] is the fifth bit of their value l. Arithmetic as {@link Q4KMatrix} with
 * values 0..31 (a lane adds two products of at most 31 * 128). The main type of llama.cpp's Q5_K_M mix.
 */
final class Q5KMatrix extends KQuantMatrix {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final int BLOCK_BYTES = 176;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Byte> B512 = ByteVector.SPECIES_512;
    private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> F128 = FloatVector.SPECIES_128;
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;

    Q5KMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q5_K, data, rows, cols);
    }

    /**
     * A sub-block pair (64 values) per 512-bit step, as {@link Q4KMatrix#dotQ8K} with the fifth bits from the 32
     * high-bit bytes (one 512-bit vector per super-block); two pairs per pass from one 64-byte load, as there.
     * Written out without vector-returning helpers, for the reason given in {@link Q8Matrix#dotQ8}.
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
            ShortVector h = (ShortVector) ByteVector.fromMemorySegment(B256, data, block + 16, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
            int mins = 0;
            for (int k = 0; k < 4; k += 2) {
                ByteVector bytes = ByteVector.fromMemorySegment(B512, data, block + 48 + 32L * k, ByteOrder.LITTLE_ENDIAN);
                int o = 256 * sb + 64 * k;
                long sc = scales >>> (16 * k);
                long mn = minima >>> (16 * k);
                ShortVector q = (ShortVector) bytes.convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
                IntVector p;
                p = q.and((short) 0x0F).or(h.lanewise(VectorOperators.LSHR, 2 * k).and((short) 1).lanewise(VectorOperators.LSHL, 4))
                        .mul(ShortVector.fromArray(S512, xq, o)).reinterpretAsInts();
                acc0 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F512, d * (int) (sc & 0xFF)), acc0);
                p = q.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2 * k + 1).and((short) 1).lanewise(VectorOperators.LSHL, 4))
                        .mul(ShortVector.fromArray(S512, xq, o + 32)).reinterpretAsInts();
                acc1 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F512, d * (int) ((sc >>> 8) & 0xFF)), acc1);
                q = (ShortVector) bytes.convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 1);
                p = q.and((short) 0x0F).or(h.lanewise(VectorOperators.LSHR, 2 * k + 2).and((short) 1).lanewise(VectorOperators.LSHL, 4))
                        .mul(ShortVector.fromArray(S512, xq, o + 64)).reinterpretAsInts();
                acc0 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F512, d * (int) ((sc >>> 16) & 0xFF)), acc0);
                p = q.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2 * k + 3).and((short) 1).lanewise(VectorOperators.LSHL, 4))
                        .mul(ShortVector.fromArray(S512, xq, o + 96)).reinterpretAsInts();
                acc1 = ((FloatVector) p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F512, d * (int) ((sc >>> 24) & 0xFF)), acc1);
                int g = 16 * sb + 4 * k;
                mins += (int) (mn & 0xFF) * (bsums[g] + bsums[g + 1]) + (int) ((mn >>> 8) & 0xFF) * (bsums[g + 2] + bsums[g + 3])
                        + (int) ((mn >>> 16) & 0xFF) * (bsums[g + 4] + bsums[g + 5]) + (int) ((mn >>> 24) & 0xFF) * (bsums[g + 6] + bsums[g + 7]);
            }
            minTerm += dmin * mins;
        }
        // Dot.sumLanes written out (same additions, same order): see Q4KMatrix#dotQ8K.
        FloatVector acc = acc0.add(acc1);
        FloatVector h8 = ((FloatVector) acc.reinterpretShape(F256, 0)).add((FloatVector) acc.reinterpretShape(F256, 1));
        FloatVector h4 = ((FloatVector) h8.reinterpretShape(F128, 0)).add((FloatVector) h8.reinterpretShape(F128, 1));
        return (h4.lane(0) + h4.lane(1)) + (h4.lane(2) + h4.lane(3)) - minTerm;
    }

    /** The row as floats, as ggml decodes it: d * sc * (nibble + 16 * fifth bit) - dmin * m per sub-block of 32. */
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
            IntVector h0 = (IntVector) ByteVector.fromMemorySegment(B, data, block + 16, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
            IntVector h1 = (IntVector) ByteVector.fromMemorySegment(B, data, block + 32, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
            for (int k = 0; k < 4; k++) {
                long qs = block + 48 + 32L * k;
                float d1 = d * (int) ((scales >>> (16 * k)) & 0xFF);
                float m1 = dmin * (int) ((minima >>> (16 * k)) & 0xFF);
                float d2 = d * (int) ((scales >>> (16 * k + 8)) & 0xFF);
                float m2 = dmin * (int) ((minima >>> (16 * k + 8)) & 0xFF);
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, data, qs, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, data, qs + 16, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
                int o = j + 64 * k;
                int low = 2 * k;
                int high = 2 * k + 1;
                IntVector v;
                v = q0.and(0x0F).or(h0.lanewise(VectorOperators.LSHR, low).and(1).lanewise(VectorOperators.LSHL, 4));
                ((FloatVector) v.convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(dst, o);
                v = q1.and(0x0F).or(h1.lanewise(VectorOperators.LSHR, low).and(1).lanewise(VectorOperators.LSHL, 4));
                ((FloatVector) v.convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(dst, o + 16);
                v = q0.lanewise(VectorOperators.LSHR, 4).or(h0.lanewise(VectorOperators.LSHR, high).and(1).lanewise(VectorOperators.LSHL, 4));
                ((FloatVector) v.convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).intoArray(dst, o + 32);
                v = q1.lanewise(VectorOperators.LSHR, 4).or(h1.lanewise(VectorOperators.LSHR, high).and(1).lanewise(VectorOperators.LSHL, 4));
                ((FloatVector) v.convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).intoArray(dst, o + 48);
            }
        }
    }
}
