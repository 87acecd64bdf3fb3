package dev.freehold.core.kernel;

import dev.freehold.core.tensor.Bits;
import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * Weights in 32-value blocks of small integers with an f16 scale at the block's start (Q8_0, Q4_0, Q5_0, and with a
 * minimum Q4_1, Q5_1), multiplied as ggml does: the activation vector is quantised to Q8_0 (Q8_1: the same values
 * plus s = d * sum, for the types with a minimum) once, each block's integer products are summed exactly and
 * scaled by d_w * d_x, plus m_w * s_x where there is a minimum. The vector kernels multiply in 16-bit integer lanes (products of two values in -128..127
 * and sums of two such products fit), because widening every weight to float costs twice as many instructions as
 * the multiply itself. Each subclass has its own row loop: with one loop shared through a virtual block decoder,
 * the JIT specialises it for whichever type runs first and the other runs at half speed. The batch path calls the
 * same row kernel per vector, so results do not depend on how tokens are batched. Needs AVX-512 vectors; elsewhere
 * it uses the reference path.
 */
abstract class Block32Matrix extends Matrix {
    static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;

    private final ThreadLocal<Q8Activations> activations;
    private final ThreadLocal<Q8Activations[]> batchActivations = new ThreadLocal<>();

    Block32Matrix(GgmlType type, MemorySegment data, int rows, int cols) {
        super(type, data, rows, cols);
        this.activations = ThreadLocal.withInitial(() -> new Q8Activations(cols));
    }

    /** Row {@code row} times the quantised activations, with vector instructions. */
    abstract float dotQ8(int row, Q8Activations a);

    /** Whether blocks carry a minimum (Q4_1, Q5_1: value = d * q + m), multiplied with the activations' s. */
    boolean hasMin() {
        return false;
    }

    /** The block's minimum m (f16 at offset 2), for types that have one. */
    final float blockMin(long block) {
        return Bits.f16(data, block + 2);
    }

    /** One block's contribution in scalar code: the tail of a row with an odd number of blocks. */
    final float blockScalar(long block, Q8Activations a, int b) {
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += blockValue(block, j) * a.qs[32 * b + j];
        float r = sum * (Bits.f16(data, block) * a.d[b]);
        return hasMin() ? r + blockMin(block) * a.s[b] : r;
    }

    /** Value j of the block as an integer (without the scale). */
    abstract int blockValue(long block, int j);

    @Override
    public void matvec(float[] x, float[] out, WorkerPool pool) {
        Q8Activations a = activations.get();
        a.quantize(x, cols);
        if (VECTOR && readsPairs()) a.fillPairs(cols);
        pool.parallelFor(rows, (from, to) -> {
            if (VECTOR) {
                for (int r = from; r < to; r++) out[r] = dotQ8(r, a);
            } else {
                for (int r = from; r < to; r++) out[r] = dotQ8Scalar(r, a);
            }
        });
    }

    /** The vectors quantised, in buffers reused by this thread. */
    final Q8Activations[] quantizeBatch(float[][] xs, int n) {
        Q8Activations[] acts = batchActivations.get();
        if (acts == null || acts.length < n) {
            acts = new Q8Activations[Math.max(n, 8)];
            for (int t = 0; t < acts.length; t++) acts[t] = new Q8Activations(cols);
            batchActivations.set(acts);
        }
        for (int t = 0; t < n; t++) {
            acts[t].quantize(xs[t], cols);
            if (VECTOR && readsPairs()) acts[t].fillPairs(cols);
        }
        return acts;
    }

    /** Whether the vector kernels read {@link Q8Activations#pairs} (filled only then: it costs a copy per product). */
    boolean readsPairs() {
        return false;
    }

    /**
     * Row by row, every vector with the row kernel of {@link #matvec}; the row stays in cache between vectors. Types
     * with a {@link #tile4} take four vectors per weight load; either way each vector's result is bit-identical to
     * {@link #matvec}'s.
     */
    @Override
    public void matmul(float[][] xs, float[][] outs, int n, WorkerPool pool) {
        Q8Activations[] a = quantizeBatch(xs, n);
        boolean tiles = VECTOR && n >= 4 && hasTile4();
        pool.parallelFor(rows, (from, to) -> {
            float[] lanes = tiles ? tileLanes.get() : null;
            for (int r = from; r < to; r++) {
                int t = 0;
                if (tiles) for (; t + 4 <= n; t += 4) tile4(r, a, t, outs, lanes);
                for (; t < n; t++) outs[t][r] = VECTOR ? dotQ8(r, a[t]) : dotQ8Scalar(r, a[t]);
            }
        });
    }

    private final ThreadLocal<float[]> tileLanes = ThreadLocal.withInitial(() -> new float[64]);

    /** Whether this type has {@link #tile4} for this machine's vectors. */
    boolean hasTile4() {
        return false;
    }

    /**
     * {@code outs[t..t+4)[row]}, each with exactly {@link #dotQ8}'s arithmetic; {@code lanes} is 64 floats of scratch
     * for the lane sums (passing vectors to a method that is not inlined would box them).
     */
    void tile4(int row, Q8Activations[] a, int t, float[][] outs, float[] lanes) {
        throw new UnsupportedOperationException();
    }

    /** Each vector rounded to Q8_0 blocks, as {@link #matvec} quantises it: q * d. */
    @Override
    float[][] promptActivations(float[][] xs, int n) {
        float[][] out = promptBuffers(n);
        for (int t = 0; t < n; t++) Q8Activations.roundTrip(xs[t], out[t], cols);
        return out;
    }

    /** Scalar reference of {@link #dotQ8}: exact integer block sums scaled by d_w * d_x. */
    float dotQ8Scalar(int row, Q8Activations a) {
        float sum = 0f;
        long block = row * rowBytes;
        for (int b = 0; b < cols / 32; b++, block += type.blockBytes()) {
            float s = 0f;
            for (int j = 0; j < 32; j++) s += blockValue(block, j) * a.q[b * 32 + j];
            sum += s * (Bits.f16(data, block) * a.d[b]);
            if (hasMin()) sum += blockMin(block) * a.s[b];
        }
        return sum;
    }
}
