package dev.freehold.core.kernel;

import dev.freehold.core.tensor.Bits;
import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Weights in 32-value blocks of small integers with an f16 scale at the block's start (Q8_0, Q4_0), multiplied as
 * ggml does: the activation vector is quantised to Q8_0 once, each block's integer products (exact in float) are
 * scaled by d_w * d_x. Subclasses only say how a block's integers are stored. The batch path decodes each row once
 * and repeats exactly the single-vector arithmetic, so results do not depend on how tokens are batched. Needs
 * 16-lane float vectors (AVX-512); elsewhere it uses the reference path.
 */
abstract class Block32Matrix extends Matrix {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;

    private final int blockBytes;
    private final ThreadLocal<Q8Activations> activations;
    private final ThreadLocal<Q8Activations[]> batchActivations = new ThreadLocal<>();
    private final ThreadLocal<float[]> rowInts;

    Block32Matrix(GgmlType type, MemorySegment data, int rows, int cols) {
        super(type, data, rows, cols);
        this.blockBytes = type.blockBytes();
        this.activations = ThreadLocal.withInitial(() -> new Q8Activations(cols));
        this.rowInts = ThreadLocal.withInitial(() -> new float[cols]);
    }

    /** The block's 32 integers times v[i..i+32), as a 16-lane vector of pairwise sums (lanes j and j+16 added). */
    abstract FloatVector blockProducts(long block, float[] v, int i);

    /** The block's 32 integers (without the scale) into w[0..32): the scalar reference. */
    abstract void decodeBlock(long block, float[] w);

    /** The same integers into w[off..off+32), with vector conversions (the batch path's hot loop). */
    abstract void decodeBlockInto(long block, float[] w, int off);

    @Override
    public float dot(int row, float[] x) {
        if (!VECTOR) return super.dot(row, x);
        long block = row * rowBytes;
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < cols; i += 32, block += blockBytes) {
            acc = blockProducts(block, x, i).fma(FloatVector.broadcast(F, Bits.f16(data, block)), acc);
        }
        return Dot.sumLanes(acc);
    }

    @Override
    public void matvec(float[] x, float[] out, WorkerPool pool) {
        Q8Activations a = activations.get();
        a.quantize(x, cols);
        pool.parallelFor(rows, (from, to) -> {
            for (int r = from; r < to; r++) out[r] = VECTOR ? dotQ8(r, a) : dotQ8Scalar(r, a);
        });
    }

    @Override
    public void matmul(float[][] xs, float[][] outs, int n, WorkerPool pool) {
        if (!VECTOR) {
            super.matmul(xs, outs, n, pool);
            return;
        }
        Q8Activations[] acts = batchActivations.get();
        if (acts == null || acts.length < n) {
            acts = new Q8Activations[Math.max(n, 8)];
            for (int t = 0; t < acts.length; t++) acts[t] = new Q8Activations(cols);
            batchActivations.set(acts);
        }
        for (int t = 0; t < n; t++) acts[t].quantize(xs[t], cols);
        Q8Activations[] a = acts;
        int nb = cols / 32;
        pool.parallelFor(rows, (from, to) -> {
            float[] w = rowInts.get();
            float[] blockScale = new float[nb];
            for (int r = from; r < to; r++) {
                long block = r * rowBytes;
                for (int b = 0; b < nb; b++, block += blockBytes) {
                    decodeBlockInto(block, w, b * 32);
                    blockScale[b] = Bits.f16(data, block);
                }
                for (int t = 0; t < n; t++) {
                    float[] xq = a[t].q;
                    float[] xd = a[t].d;
                    FloatVector acc0 = FloatVector.zero(F);
                    FloatVector acc1 = FloatVector.zero(F);
                    int b = 0;
                    for (; b + 1 < nb; b += 2) {
                        acc0 = decodedProducts(w, xq, b * 32).fma(FloatVector.broadcast(F, blockScale[b] * xd[b]), acc0);
                        acc1 = decodedProducts(w, xq, b * 32 + 32).fma(FloatVector.broadcast(F, blockScale[b + 1] * xd[b + 1]), acc1);
                    }
                    if (b < nb) acc0 = decodedProducts(w, xq, b * 32).fma(FloatVector.broadcast(F, blockScale[b] * xd[b]), acc0);
                    outs[t][r] = Dot.sumLanes(acc0.add(acc1));
                }
            }
        });
    }

    /** Two blocks per iteration into two accumulators; no lane reduction until the end. */
    float dotQ8(int row, Q8Activations a) {
        long block = row * rowBytes;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int nb = cols / 32;
        int b = 0;
        for (; b + 1 < nb; b += 2, block += 2L * blockBytes) {
            acc0 = blockProducts(block, a.q, b * 32).fma(FloatVector.broadcast(F, Bits.f16(data, block) * a.d[b]), acc0);
            acc1 = blockProducts(block + blockBytes, a.q, b * 32 + 32)
                    .fma(FloatVector.broadcast(F, Bits.f16(data, block + blockBytes) * a.d[b + 1]), acc1);
        }
        if (b < nb) acc0 = blockProducts(block, a.q, b * 32).fma(FloatVector.broadcast(F, Bits.f16(data, block) * a.d[b]), acc0);
        return Dot.sumLanes(acc0.add(acc1));
    }

    /** Scalar reference of {@link #dotQ8}: exact integer block sums scaled by d_w * d_x. */
    float dotQ8Scalar(int row, Q8Activations a) {
        float[] w = new float[32];
        float sum = 0f;
        long block = row * rowBytes;
        for (int b = 0; b < cols / 32; b++, block += blockBytes) {
            decodeBlock(block, w);
            float s = 0f;
            for (int j = 0; j < 32; j++) s += w[j] * a.q[b * 32 + j];
            sum += s * (Bits.f16(data, block) * a.d[b]);
        }
        return sum;
    }

    private static FloatVector decodedProducts(float[] w, float[] xq, int i) {
        return FloatVector.fromArray(F, w, i).mul(FloatVector.fromArray(F, xq, i))
                .add(FloatVector.fromArray(F, w, i + 16).mul(FloatVector.fromArray(F, xq, i + 16)));
    }
}
