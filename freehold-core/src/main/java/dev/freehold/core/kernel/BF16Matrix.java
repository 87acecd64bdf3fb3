package dev.freehold.core.kernel;

import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * BF16 weights (many models are published in it): a bfloat16 is the upper half of a float, so widening is a shift
 * into place, exact for every bit pattern. Four accumulators, as in {@link F16Matrix}. Needs AVX-512 vectors;
 * elsewhere it uses the reference path.
 */
final class BF16Matrix extends Matrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;

    BF16Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.BF16, data, rows, cols);
    }

    /** Written out without vector-returning helpers, for the reason given in {@link Q8Matrix#dotQ8}. */
    @Override
    public float dot(int row, float[] x) {
        if (!VECTOR || cols % 16 != 0) return super.dot(row, x);
        long base = row * rowBytes;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        int i = 0;
        for (; i + 64 <= cols; i += 64) {
            long o = base + 2L * i;
            FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(S, data, o, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(S, data, o + 32, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w2 = ((IntVector) ShortVector.fromMemorySegment(S, data, o + 64, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w3 = ((IntVector) ShortVector.fromMemorySegment(S, data, o + 96, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc0 = w0.fma(FloatVector.fromArray(F, x, i), acc0);
            acc1 = w1.fma(FloatVector.fromArray(F, x, i + 16), acc1);
            acc2 = w2.fma(FloatVector.fromArray(F, x, i + 32), acc2);
            acc3 = w3.fma(FloatVector.fromArray(F, x, i + 48), acc3);
        }
        for (; i < cols; i += 16) {
            FloatVector w = ((IntVector) ShortVector.fromMemorySegment(S, data, base + 2L * i, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc0 = w.fma(FloatVector.fromArray(F, x, i), acc0);
        }
        return Dot.sumLanes(acc0.add(acc1).add(acc2.add(acc3)));
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

    /** The row as floats: each half shifted into the top of a float. */
    @Override
    void decodeRow(int row, float[] dst, int off) {
        if (!VECTOR || cols % 16 != 0) {
            super.decodeRow(row, dst, off);
            return;
        }
        long base = row * rowBytes;
        for (int i = 0; i < cols; i += 16) {
            ((IntVector) ShortVector.fromMemorySegment(S, data, base + 2L * i, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, off + i);
        }
    }
}
