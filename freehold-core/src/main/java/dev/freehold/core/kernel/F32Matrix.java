package dev.freehold.core.kernel;

import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** F32 weights: vectorised fused multiply-add straight from the mapping. */
final class F32Matrix extends Matrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    F32Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.F32, data, rows, cols);
    }

    /**
     * Several vectors: rows copied into {@link PromptProduct}'s panel and multiplied in its 4 x 4 register tiles, so
     * each weight vector loaded serves 4 products. Every (row, vector) pair accumulates in one register in the same
     * order as {@link #dot}, then the same lane sum and tail: a batch gives bit-identical results to one vector at a
     * time. (The inherited prompt product runs the same tiles on the same rows: identical results.)
     */
    @Override
    public void matmul(float[][] xs, float[][] outs, int n, WorkerPool pool) {
        if (n < 2 || !PromptProduct.SUPPORTED || F.length() != 16) {
            pool.parallelFor(rows, (from, to) -> {
                for (int r = from; r < to; r++) for (int t = 0; t < n; t++) outs[t][r] = dot(r, xs[t]);
            });
            return;
        }
        PromptProduct.run(this, xs, outs, n, pool);
    }

    @Override
    void decodeRow(int row, float[] dst, int off) {
        MemorySegment.copy(data, dev.freehold.core.tensor.Bits.LE_FLOAT, row * rowBytes, dst, off, cols);
    }

    @Override
    public float dot(int row, float[] x) {
        long base = row * rowBytes;
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(cols);
        for (; i < bound; i += F.length()) {
            FloatVector w = FloatVector.fromMemorySegment(F, data, base + 4L * i, ByteOrder.LITTLE_ENDIAN);
            acc = w.fma(FloatVector.fromArray(F, x, i), acc);
        }
        float sum = Dot.sumLanes(acc);
        for (; i < cols; i++) sum += data.get(dev.freehold.core.tensor.Bits.LE_FLOAT, base + 4L * i) * x[i];
        return sum;
    }
}
