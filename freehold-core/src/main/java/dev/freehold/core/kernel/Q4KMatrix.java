package dev.freehold.core.kernel;

import dev.freehold.core.tensor.Bits;
import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q4_K weights: super-blocks of 256 values (f16 d and dmin, twelve bytes of 6-bit sub-block scales and mins, 128
 * bytes of nibbles; bytes 32k..32k+31 hold sub-block 2k in their low nibbles and 2k+1 in their high ones). For a
 * sub-block, sum((d*sc*q - dmin*m) * x) = d*sc*sum(q*x) - dmin*m*sum(x); the sums of x per 32 values are computed
 * once per activation vector. Needs 16-lane float vectors (AVX-512); elsewhere it uses the reference path.
 */
final class Q4KMatrix extends Matrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;
    private static final int BLOCK_BYTES = 144;

    private final ThreadLocal<float[]> subSums;

    Q4KMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_K, data, rows, cols);
        subSums = ThreadLocal.withInitial(() -> new float[cols / 32]);
    }

    @Override
    public void matvec(float[] x, float[] out, WorkerPool pool) {
        if (!VECTOR) {
            super.matvec(x, out, pool);
            return;
        }
        float[] xs = sums(x);
        pool.parallelFor(rows, (from, to) -> {
            for (int r = from; r < to; r++) out[r] = dot(r, x, xs);
        });
    }

    /** Each row's nibbles are decoded to floats once and used for every vector, with the arithmetic of {@link #dot}. */
    @Override
    public void matmul(float[][] xs, float[][] outs, int n, WorkerPool pool) {
        if (!VECTOR) {
            super.matmul(xs, outs, n, pool);
            return;
        }
        float[][] sums = new float[n][];
        for (int t = 0; t < n; t++) sums[t] = sums(xs[t]).clone();
        int nsub = cols / 32;
        pool.parallelFor(rows, (from, to) -> {
            float[] q = new float[cols];
            float[] dsc = new float[nsub];
            float[] dm = new float[nsub];
            byte[] raw = new byte[128];
            for (int r = from; r < to; r++) {
                long block = r * rowBytes;
                for (int sb = 0; sb < cols / 256; sb++, block += BLOCK_BYTES) {
                    scalesOf(block, dsc, dm, sb * 8);
                    MemorySegment.copy(data, ValueLayout.JAVA_BYTE, block + 16, raw, 0, 128);
                    for (int k = 0; k < 4; k++) {
                        for (int l = 0; l < 32; l++) {
                            int b = raw[32 * k + l] & 0xFF;
                            q[sb * 256 + 64 * k + l] = b & 0x0F;
                            q[sb * 256 + 64 * k + 32 + l] = b >>> 4;
                        }
                    }
                }
                for (int t = 0; t < n; t++) {
                    float[] x = xs[t];
                    FloatVector acc = FloatVector.zero(F);
                    float minTerm = 0f;
                    for (int j = 0; j < nsub; j++) {
                        FloatVector p = FloatVector.fromArray(F, q, 32 * j).mul(FloatVector.fromArray(F, x, 32 * j))
                                .add(FloatVector.fromArray(F, q, 32 * j + 16).mul(FloatVector.fromArray(F, x, 32 * j + 16)));
                        acc = p.fma(FloatVector.broadcast(F, dsc[j]), acc);
                        minTerm += dm[j] * sums[t][j];
                    }
                    outs[t][r] = Dot.sumLanes(acc) - minTerm;
                }
            }
        });
    }

    @Override
    public float dot(int row, float[] x) {
        return VECTOR ? dot(row, x, sums(x).clone()) : super.dot(row, x);
    }

    /** Sums of x per 32 values, in a fixed order. */
    private float[] sums(float[] x) {
        float[] s = subSums.get();
        for (int j = 0; j < cols / 32; j++) {
            FloatVector v = FloatVector.fromArray(F, x, 32 * j).add(FloatVector.fromArray(F, x, 32 * j + 16));
            s[j] = Dot.sumLanes(v);
        }
        return s;
    }

    /** d*scale and dmin*min of the 8 sub-blocks of the super-block at {@code block}, into dsc/dm from index o. */
    private void scalesOf(long block, float[] dsc, float[] dm, int o) {
        float d = Bits.f16(data, block);
        float dmin = Bits.f16(data, block + 2);
        long lo = data.get(Bits.LE_LONG, block + 4);
        int hi = data.get(Bits.LE_INT, block + 12);
        for (int j = 0; j < 8; j++) {
            int sc;
            int m;
            if (j < 4) {
                sc = (int) (lo >>> (8 * j)) & 63;
                m = (int) (lo >>> (8 * (j + 4))) & 63;
            } else {
                int b4 = (hi >>> (8 * (j - 4))) & 0xFF;               // byte j+4
                int bLow = (int) (lo >>> (8 * (j - 4))) & 0xFF;       // byte j-4
                int bHigh = (int) (lo >>> (8 * j)) & 0xFF;            // byte j
                sc = (b4 & 0xF) | ((bLow >>> 6) << 4);
                m = (b4 >>> 4) | ((bHigh >>> 6) << 4);
            }
            dsc[o + j] = d * sc;
            dm[o + j] = dmin * m;
        }
    }

    private float dot(int row, float[] x, float[] xSums) {
        long block = row * rowBytes;
        float[] dsc = new float[8];
        float[] dm = new float[8];
        FloatVector acc = FloatVector.zero(F);
        float minTerm = 0f;
        for (int sb = 0; sb < cols / 256; sb++, block += BLOCK_BYTES) {
            scalesOf(block, dsc, dm, 0);
            for (int k = 0; k < 4; k++) {
                long qs = block + 16 + 32L * k;
                ByteVector q0 = ByteVector.fromMemorySegment(B, data, qs, ByteOrder.LITTLE_ENDIAN);
                ByteVector q1 = ByteVector.fromMemorySegment(B, data, qs + 16, ByteOrder.LITTLE_ENDIAN);
                int xo = sb * 256 + 64 * k;
                FloatVector lo = nibbles(q0, false).mul(FloatVector.fromArray(F, x, xo))
                        .add(nibbles(q1, false).mul(FloatVector.fromArray(F, x, xo + 16)));
                acc = lo.fma(FloatVector.broadcast(F, dsc[2 * k]), acc);
                minTerm += dm[2 * k] * xSums[sb * 8 + 2 * k];
                FloatVector hi = nibbles(q0, true).mul(FloatVector.fromArray(F, x, xo + 32))
                        .add(nibbles(q1, true).mul(FloatVector.fromArray(F, x, xo + 48)));
                acc = hi.fma(FloatVector.broadcast(F, dsc[2 * k + 1]), acc);
                minTerm += dm[2 * k + 1] * xSums[sb * 8 + 2 * k + 1];
            }
        }
        return Dot.sumLanes(acc) - minTerm;
    }

    private static FloatVector nibbles(ByteVector q, boolean high) {
        ByteVector v = high ? q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F) : q.and((byte) 0x0F);
        return (FloatVector) v.convertShape(VectorOperators.B2F, F, 0);
    }
}
