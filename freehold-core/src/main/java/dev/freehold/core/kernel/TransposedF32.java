package dev.freehold.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A weight matrix held transposed in the heap, (in, out) row-major, for encoders whose whole batch of tokens goes
 * through every matrix at once: the product is then a sum of outer products, vectorised along the outputs, so no
 * lane sums are needed and each weight vector loaded serves four tokens. Each output is the plain sequence of
 * multiply-adds over the inputs in order, whatever the batch: batches give bit-identical results to single inputs.
 */
public final class TransposedF32 {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private final float[] w; // [in * out]: w[k * out + o] = W[o][k]
    private final int in;
    private final int out;

    /** Copies and transposes a matrix of {@code rows} outputs by {@code cols} inputs. */
    public TransposedF32(Matrix m) {
        this.in = m.cols();
        this.out = m.rows();
        this.w = new float[Math.multiplyExact(in, out)];
        float[] row = new float[in];
        for (int o = 0; o < out; o++) {
            m.row(o, row);
            for (int k = 0; k < in; k++) w[k * out + o] = row[k];
        }
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    /** ys[t][o] = sum over k of xs[t][k] * W[o][k], for t in [0, n). */
    public void multiply(float[][] xs, float[][] ys, int n, WorkerPool pool) {
        int vl = F.length();
        int vectors = out / vl;            // whole vectors of outputs
        int groups = (vectors + 3) / 4;    // up to 4 vectors (64 outputs) per task item
        int tokenBlocks = (n + 3) / 4;
        pool.parallelFor(groups * tokenBlocks, (a, b) -> {
            for (int item = a; item < b; item++) {
                int g = item / tokenBlocks;
                int t0 = (item % tokenBlocks) * 4;
                int v0 = g * 4;
                int nv = Math.min(4, vectors - v0);
                int nt = Math.min(4, n - t0);
                if (nv == 4 && nt == 4) {
                    block4x4(xs, ys, t0, v0 * vl);
                } else {
                    for (int t = t0; t < t0 + nt; t++) {
                        for (int v = v0; v < v0 + nv; v++) column(xs[t], ys[t], v * vl);
                    }
                }
            }
        });
        // Outputs beyond the last whole vector: scalar, same order.
        for (int o = vectors * vl; o < out; o++) {
            for (int t = 0; t < n; t++) {
                float acc = 0f;
                for (int k = 0; k < in; k++) acc = Math.fma(xs[t][k], w[k * out + o], acc);
                ys[t][o] = acc;
            }
        }
    }

    /** 4 tokens by 64 outputs: 16 accumulators; per input, 4 weight loads and 4 broadcasts feed 16 multiply-adds. */
    private void block4x4(float[][] xs, float[][] ys, int t0, int o0) {
        float[] x0 = xs[t0];
        float[] x1 = xs[t0 + 1];
        float[] x2 = xs[t0 + 2];
        float[] x3 = xs[t0 + 3];
        int vl = F.length();
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F), a23 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F), a33 = FloatVector.zero(F);
        for (int k = 0; k < in; k++) {
            int base = k * out + o0;
            FloatVector w0 = FloatVector.fromArray(F, w, base);
            FloatVector w1 = FloatVector.fromArray(F, w, base + vl);
            FloatVector w2 = FloatVector.fromArray(F, w, base + 2 * vl);
            FloatVector w3 = FloatVector.fromArray(F, w, base + 3 * vl);
            FloatVector b = FloatVector.broadcast(F, x0[k]);
            a00 = w0.fma(b, a00);
            a01 = w1.fma(b, a01);
            a02 = w2.fma(b, a02);
            a03 = w3.fma(b, a03);
            b = FloatVector.broadcast(F, x1[k]);
            a10 = w0.fma(b, a10);
            a11 = w1.fma(b, a11);
            a12 = w2.fma(b, a12);
            a13 = w3.fma(b, a13);
            b = FloatVector.broadcast(F, x2[k]);
            a20 = w0.fma(b, a20);
            a21 = w1.fma(b, a21);
            a22 = w2.fma(b, a22);
            a23 = w3.fma(b, a23);
            b = FloatVector.broadcast(F, x3[k]);
            a30 = w0.fma(b, a30);
            a31 = w1.fma(b, a31);
            a32 = w2.fma(b, a32);
            a33 = w3.fma(b, a33);
        }
        a00.intoArray(ys[t0], o0);
        a01.intoArray(ys[t0], o0 + vl);
        a02.intoArray(ys[t0], o0 + 2 * vl);
        a03.intoArray(ys[t0], o0 + 3 * vl);
        a10.intoArray(ys[t0 + 1], o0);
        a11.intoArray(ys[t0 + 1], o0 + vl);
        a12.intoArray(ys[t0 + 1], o0 + 2 * vl);
        a13.intoArray(ys[t0 + 1], o0 + 3 * vl);
        a20.intoArray(ys[t0 + 2], o0);
        a21.intoArray(ys[t0 + 2], o0 + vl);
        a22.intoArray(ys[t0 + 2], o0 + 2 * vl);
        a23.intoArray(ys[t0 + 2], o0 + 3 * vl);
        a30.intoArray(ys[t0 + 3], o0);
        a31.intoArray(ys[t0 + 3], o0 + vl);
        a32.intoArray(ys[t0 + 3], o0 + 2 * vl);
        a33.intoArray(ys[t0 + 3], o0 + 3 * vl);
    }

    /** One token, one vector of outputs: the same multiply-adds in the same order as {@link #block4x4}. */
    private void column(float[] x, float[] y, int o0) {
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < in; k++) acc = FloatVector.fromArray(F, w, k * out + o0).fma(FloatVector.broadcast(F, x[k]), acc);
        acc.intoArray(y, o0);
    }
}
