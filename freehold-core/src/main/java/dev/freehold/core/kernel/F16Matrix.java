package dev.freehold.core.kernel;

import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * F16 weights, widened to float 16 lanes at a time with integer operations (the Vector API has no half-precision
 * conversion): exponent and mantissa shifted into place and scaled by 2^112, which also gets subnormals right;
 * infinities and NaNs patched (NaNs made quiet); sign restored. Exactly {@link Float#float16ToFloat} for every bit pattern.
 * Needs 16-lane float vectors (AVX-512); elsewhere it uses the reference path.
 */
final class F16Matrix extends Matrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;
    private static final float TWO_POW_112 = 0x1p112f;

    F16Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.F16, data, rows, cols);
    }

    /** 16 halves at byte offset {@code off} as floats. */
    static FloatVector load(MemorySegment data, long off) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, data, off, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, I, 0);
        IntVector magnitude = h.and(0x7FFF);
        FloatVector f = magnitude.lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(TWO_POW_112);
        VectorMask<Integer> infOrNan = magnitude.compare(VectorOperators.GE, 0x7C00);
        // NaNs come out quiet (quiet bit set), as Float.float16ToFloat and x86's F16C conversion make them.
        IntVector special = magnitude.lanewise(VectorOperators.LSHL, 13).or(0x7F800000)
                .blend(magnitude.lanewise(VectorOperators.LSHL, 13).or(0x7FC00000), magnitude.compare(VectorOperators.GT, 0x7C00));
        IntVector bits = f.reinterpretAsInts().blend(special, infOrNan);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        return bits.or(sign).reinterpretAsFloats();
    }

    @Override
    public float dot(int row, float[] x) {
        if (!VECTOR || cols % 16 != 0) return super.dot(row, x);
        long base = row * rowBytes;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 32 <= cols; i += 32) {
            acc0 = load(data, base + 2L * i).fma(FloatVector.fromArray(F, x, i), acc0);
            acc1 = load(data, base + 2L * i + 32).fma(FloatVector.fromArray(F, x, i + 16), acc1);
        }
        if (i < cols) acc0 = load(data, base + 2L * i).fma(FloatVector.fromArray(F, x, i), acc0);
        return Dot.sumLanes(acc0.add(acc1));
    }

    /** Row by row with {@link #dot}, so a batch gives bit-identical results to one vector at a time. */
    @Override
    public void matmul(float[][] xs, float[][] outs, int n, WorkerPool pool) {
        pool.parallelFor(rows, (from, to) -> {
            for (int r = from; r < to; r++) {
                for (int t = 0; t < n; t++) outs[t][r] = dot(r, xs[t]);
            }
        });
    }
}
