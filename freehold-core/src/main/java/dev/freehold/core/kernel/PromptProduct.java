package dev.freehold.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The matrix-matrix product for prompt tokens. Decoding reads each weight once per token and multiplies it in a fused
 * kernel; a prompt has many tokens per weight read, and there the fused kernels spend most of their instructions
 * unpacking blocks and summing integer pairs per token. Here a group of rows is decoded to floats once (into a small
 * panel that stays in cache) and then multiplied with every token in 4 x 4 register tiles of plain fused
 * multiply-adds, so unpacking is paid once per chunk of tokens rather than once per token.
 *
 * <p>Numerics: the activations are first rounded the way the type's decode kernel rounds them (Q8_0 or Q8_K blocks
 * for the quantised types, as ggml does), so the products are the same sums up to float rounding order. Each
 * (row, token) pair accumulates in one register over the columns in the same order whatever the tile, the number of
 * tokens or the number of threads, so a prompt token's result depends only on its own activations: prompts give the
 * same numbers however they are split into chunks or batched with other sequences.
 */
final class PromptProduct {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    /** The tiles are written for 16 float lanes (AVX-512); elsewhere prompts use the decode kernels. */
    static final boolean SUPPORTED = FloatVector.SPECIES_PREFERRED.length() >= 16;
    private static final int ROWS_PER_GROUP = 4;

    private static final ThreadLocal<float[]> PANEL = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[256]);

    private PromptProduct() {
    }

    /** outs[t][r] = row r of {@code m} (decoded) · x[t], for t < n. */
    static void run(Matrix m, float[][] x, float[][] outs, int n, WorkerPool pool) {
        int rows = m.rows;
        int cols = m.cols;
        int groups = (rows + ROWS_PER_GROUP - 1) / ROWS_PER_GROUP;
        pool.parallelFor(groups, (fromGroup, toGroup) -> {
            float[] panel = PANEL.get();
            if (panel.length < ROWS_PER_GROUP * cols) {
                panel = new float[ROWS_PER_GROUP * cols];
                PANEL.set(panel);
            }
            float[] lanes = LANES.get();
            for (int g = fromGroup; g < toGroup; g++) {
                int r = g * ROWS_PER_GROUP;
                int count = Math.min(ROWS_PER_GROUP, rows - r);
                for (int i = 0; i < count; i++) m.decodeRow(r + i, panel, i * cols);
                int t = 0;
                if (count == ROWS_PER_GROUP) {
                    for (; t + 4 <= n; t += 4) tile(panel, cols, x, t, outs, r, lanes);
                }
                for (; t < n; t++) {
                    for (int i = 0; i < count; i++) outs[t][r + i] = single(panel, i * cols, cols, x[t], lanes);
                }
            }
        });
    }

    /** One (row, token) pair: the same accumulation as each pair of {@link #tile}. */
    static float single(float[] w, int off, int cols, float[] x, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(cols);
        for (int i = 0; i < bound; i += 16) {
            acc = FloatVector.fromArray(F, w, off + i).fma(FloatVector.fromArray(F, x, i), acc);
        }
        acc.intoArray(lanes, 0);
        float sum = Dot.sumLanes16(lanes, 0);
        for (int i = bound; i < cols; i++) sum += w[off + i] * x[i];
        return sum;
    }

    /** outs[t..t+4)[r..r+4): 16 accumulators, 8 loads per 16 multiply-adds. */
    private static void tile(float[] w, int cols, float[][] xs, int t, float[][] outs, int r, float[] lanes) {
        float[] x0 = xs[t], x1 = xs[t + 1], x2 = xs[t + 2], x3 = xs[t + 3];
        int o1 = cols, o2 = 2 * cols, o3 = 3 * cols;
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F), a23 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F), a33 = FloatVector.zero(F);
        int bound = F.loopBound(cols);
        for (int i = 0; i < bound; i += 16) {
            FloatVector v0 = FloatVector.fromArray(F, x0, i);
            FloatVector v1 = FloatVector.fromArray(F, x1, i);
            FloatVector v2 = FloatVector.fromArray(F, x2, i);
            FloatVector v3 = FloatVector.fromArray(F, x3, i);
            FloatVector wv = FloatVector.fromArray(F, w, i);
            a00 = wv.fma(v0, a00);
            a01 = wv.fma(v1, a01);
            a02 = wv.fma(v2, a02);
            a03 = wv.fma(v3, a03);
            wv = FloatVector.fromArray(F, w, o1 + i);
            a10 = wv.fma(v0, a10);
            a11 = wv.fma(v1, a11);
            a12 = wv.fma(v2, a12);
            a13 = wv.fma(v3, a13);
            wv = FloatVector.fromArray(F, w, o2 + i);
            a20 = wv.fma(v0, a20);
            a21 = wv.fma(v1, a21);
            a22 = wv.fma(v2, a22);
            a23 = wv.fma(v3, a23);
            wv = FloatVector.fromArray(F, w, o3 + i);
            a30 = wv.fma(v0, a30);
            a31 = wv.fma(v1, a31);
            a32 = wv.fma(v2, a32);
            a33 = wv.fma(v3, a33);
        }
        // Lane sums through a scratch array (a vector passed to a call that is not inlined would be boxed).
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
            for (int tt = 0; tt < 4; tt++) {
                float[] x = xs[t + tt];
                float sum = Dot.sumLanes16(lanes, 64 * rr + 16 * tt);
                for (int i = bound; i < cols; i++) sum += w[rr * cols + i] * x[i];
                outs[t + tt][r + rr] = sum;
            }
        }
    }
}
