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
     * Tiles of 4 rows by 4 vectors: each weight vector loaded is used for 4 products and each activation vector for 4,
     * so the loop is bound by multiply-adds rather than loads. Every (row, vector) pair still accumulates in one
     * register in the same order as {@link #dot}, then the same lane sum and tail: a batch gives bit-identical results
     * to one vector at a time.
     */
    @Override
    public void matmul(float[][] xs, float[][] outs, int n, WorkerPool pool) {
        if (n < 2 || F.length() != 16) { // the tile's lane sums are written for 16 lanes (AVX-512)
            pool.parallelFor(rows, (from, to) -> {
                for (int r = from; r < to; r++) for (int t = 0; t < n; t++) outs[t][r] = dot(r, xs[t]);
            });
            return;
        }
        int blocks = (rows + 3) / 4;
        pool.parallelFor(blocks, (fromBlock, toBlock) -> {
            for (int blk = fromBlock; blk < toBlock; blk++) {
                int r = blk * 4;
                if (r + 4 > rows) {
                    for (int rr = r; rr < rows; rr++) for (int t = 0; t < n; t++) outs[t][rr] = dot(rr, xs[t]);
                    continue;
                }
                int t = 0;
                for (; t + 4 <= n; t += 4) tile(r, xs, outs, t);
                for (; t < n; t++) for (int rr = r; rr < r + 4; rr++) outs[t][rr] = dot(rr, xs[t]);
            }
        });
    }

    /** F32 rows need no decoding: the tiled {@link #matmul} already is the prompt product (and equals the decode one). */
    @Override
    public void matmulPrompt(float[][] xs, float[][] outs, int n, WorkerPool pool) {
        matmul(xs, outs, n, pool);
    }

    /** outs[t..t+4)[r..r+4) in one pass over the columns: 16 accumulators, 8 loads per 16 multiply-adds. */
    private void tile(int r, float[][] xs, float[][] outs, int t) {
        long b0 = r * rowBytes;
        long b1 = b0 + rowBytes;
        long b2 = b1 + rowBytes;
        long b3 = b2 + rowBytes;
        float[] x0 = xs[t];
        float[] x1 = xs[t + 1];
        float[] x2 = xs[t + 2];
        float[] x3 = xs[t + 3];
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F), a23 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F), a33 = FloatVector.zero(F);
        int bound = F.loopBound(cols);
        for (int i = 0; i < bound; i += F.length()) {
            long off = 4L * i;
            FloatVector v0 = FloatVector.fromArray(F, x0, i);
            FloatVector v1 = FloatVector.fromArray(F, x1, i);
            FloatVector v2 = FloatVector.fromArray(F, x2, i);
            FloatVector v3 = FloatVector.fromArray(F, x3, i);
            FloatVector w = FloatVector.fromMemorySegment(F, data, b0 + off, ByteOrder.LITTLE_ENDIAN);
            a00 = w.fma(v0, a00);
            a01 = w.fma(v1, a01);
            a02 = w.fma(v2, a02);
            a03 = w.fma(v3, a03);
            w = FloatVector.fromMemorySegment(F, data, b1 + off, ByteOrder.LITTLE_ENDIAN);
            a10 = w.fma(v0, a10);
            a11 = w.fma(v1, a11);
            a12 = w.fma(v2, a12);
            a13 = w.fma(v3, a13);
            w = FloatVector.fromMemorySegment(F, data, b2 + off, ByteOrder.LITTLE_ENDIAN);
            a20 = w.fma(v0, a20);
            a21 = w.fma(v1, a21);
            a22 = w.fma(v2, a22);
            a23 = w.fma(v3, a23);
            w = FloatVector.fromMemorySegment(F, data, b3 + off, ByteOrder.LITTLE_ENDIAN);
            a30 = w.fma(v0, a30);
            a31 = w.fma(v1, a31);
            a32 = w.fma(v2, a32);
            a33 = w.fma(v3, a33);
        }
        // Reduce without passing vectors to a method: sixteen calls would be too much to inline, and a vector
        // passed to a call that is not inlined is boxed. The lanes go to a scratch array and are summed there in
        // Dot.sumLanes's exact order.
        float[] lanes = scratch.get();
        a00.intoArray(lanes, 0);
        a01.intoArray(lanes, 16);
        a02.intoArray(lanes, 32);
        a03.intoArray(lanes, 48);
        a10.intoArray(lanes, 64);
        a11.intoArray(lanes, 80);
        a12.intoArray(lanes, 96);
        a13.intoArray(lanes, 112);
        a20.intoArray(lanes, 128);
        a21.intoArray(lanes, 144);
        a22.intoArray(lanes, 160);
        a23.intoArray(lanes, 176);
        a30.intoArray(lanes, 192);
        a31.intoArray(lanes, 208);
        a32.intoArray(lanes, 224);
        a33.intoArray(lanes, 240);
        for (int rr = 0; rr < 4; rr++) {
            long base = b0 + rr * rowBytes;
            for (int tt = 0; tt < 4; tt++) {
                outs[t + tt][r + rr] = finish(lanes, 64 * rr + 16 * tt, base, xs[t + tt], bound);
            }
        }
    }

    private final ThreadLocal<float[]> scratch = ThreadLocal.withInitial(() -> new float[256]);

    /** Dot.sumLanes on 16 lanes stored at {@code o}, then the scalar tail, exactly as {@link #dot} ends. */
    private float finish(float[] l, int o, long base, float[] x, int from) {
        float h0 = l[o] + l[o + 8];
        float h1 = l[o + 1] + l[o + 9];
        float h2 = l[o + 2] + l[o + 10];
        float h3 = l[o + 3] + l[o + 11];
        float h4 = l[o + 4] + l[o + 12];
        float h5 = l[o + 5] + l[o + 13];
        float h6 = l[o + 6] + l[o + 14];
        float h7 = l[o + 7] + l[o + 15];
        float g0 = h0 + h4;
        float g1 = h1 + h5;
        float g2 = h2 + h6;
        float g3 = h3 + h7;
        float sum = (g0 + g1) + (g2 + g3);
        for (int i = from; i < cols; i++) sum += data.get(dev.freehold.core.tensor.Bits.LE_FLOAT, base + 4L * i) * x[i];
        return sum;
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
