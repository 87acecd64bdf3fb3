package dev.freehold.core.kernel;

import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * K-quant weights (256-value super-blocks) multiplied as ggml does: the activation vector is quantised to Q8_K once
 * per product and each type's row kernel multiplies integers. The batch path runs the same row kernel per vector,
 * so a batch gives bit-identical results to one vector at a time. Needs AVX-512; elsewhere the reference path.
 */
abstract class KQuantMatrix extends Matrix {
    static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;

    private final ThreadLocal<Q8KActivations> activations;
    private final ThreadLocal<Q8KActivations[]> batchActivations = new ThreadLocal<>();

    KQuantMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        super(type, data, rows, cols);
        activations = ThreadLocal.withInitial(() -> new Q8KActivations(cols));
    }

    /**
     * The eight 6-bit sub-block scales of Q4_K/Q5_K's twelve packed bytes (bytes 0..7 in {@code lo}, 8..11 in
     * {@code hi}), one per byte of the result: scale j < 4 is bits 0..5 of byte j; scale j >= 4 is the low nibble
     * of byte j + 4 with bits 6..7 of byte j - 4 on top.
     */
    static long q4kScales(long lo, int hi) {
        long high = (hi & 0x0F0F0F0FL) | ((lo >>> 2) & 0x30303030L);
        return (lo & 0x3F3F3F3FL) | high << 32;
    }

    /** The eight 6-bit minima likewise: min j < 4 is bits 0..5 of byte j + 4; min j >= 4 the high nibble of byte j + 4 with bits 6..7 of byte j on top. */
    static long q4kMins(long lo, int hi) {
        long high = ((hi >>> 4) & 0x0F0F0F0FL) | ((lo >>> 34) & 0x30303030L);
        return ((lo >>> 32) & 0x3F3F3F3FL) | high << 32;
    }

    /** Row {@code row} times the Q8_K activations. */
    abstract float dotQ8K(int row, Q8KActivations a);

    @Override
    public void matvec(float[] x, float[] out, WorkerPool pool) {
        if (!VECTOR) {
            super.matvec(x, out, pool);
            return;
        }
        Q8KActivations a = activations.get();
        a.quantize(x, cols);
        pool.parallelFor(rows, (from, to) -> {
            for (int r = from; r < to; r++) out[r] = dotQ8K(r, a);
        });
    }

    /** Each vector rounded to Q8_K blocks, as {@link #matvec} quantises it: q * d. */
    @Override
    float[][] promptActivations(float[][] xs, int n) {
        if (!VECTOR) return xs;
        float[][] out = promptBuffers(n);
        for (int t = 0; t < n; t++) Q8KActivations.roundTrip(xs[t], out[t], cols);
        return out;
    }

    /** The vectors quantised to Q8_K, in buffers reused by this thread. */
    final Q8KActivations[] quantizeBatch(float[][] xs, int n) {
        Q8KActivations[] acts = batchActivations.get();
        if (acts == null || acts.length < n) {
            acts = new Q8KActivations[Math.max(n, 8)];
            for (int t = 0; t < acts.length; t++) acts[t] = new Q8KActivations(cols);
            batchActivations.set(acts);
        }
        for (int t = 0; t < n; t++) acts[t].quantize(xs[t], cols);
        return acts;
    }

    /**
     * Every vector with the row kernel of {@link #matvec}, row by row (the row stays in cache), four per weight load
     * for types with a {@link #tile4}: bit-identical to it either way.
     */
    @Override
    public void matmul(float[][] xs, float[][] outs, int n, WorkerPool pool) {
        if (!VECTOR) {
            super.matmul(xs, outs, n, pool);
            return;
        }
        Q8KActivations[] a = quantizeBatch(xs, n);
        boolean tiles = n >= 4 && hasTile4();
        pool.parallelFor(rows, (from, to) -> {
            float[] lanes = tiles ? tileLanes.get() : null;
            for (int r = from; r < to; r++) {
                int t = 0;
                if (tiles) for (; t + 4 <= n; t += 4) tile4(r, a, t, outs, lanes);
                for (; t < n; t++) outs[t][r] = dotQ8K(r, a[t]);
            }
        });
    }

    private final ThreadLocal<float[]> tileLanes = ThreadLocal.withInitial(() -> new float[64]);

    /** Whether this type has {@link #tile4} for this machine's vectors. */
    boolean hasTile4() {
        return false;
    }

    /** {@code outs[t..t+4)[row]}, each with exactly {@link #dotQ8K}'s arithmetic; {@code lanes}: 64 floats of scratch. */
    void tile4(int row, Q8KActivations[] a, int t, float[][] outs, float[] lanes) {
        throw new UnsupportedOperationException();
    }
}
