package dev.freehold.core.kernel;

import dev.freehold.core.tensor.Bits;
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
 * That exact conversion costs about ten vector operations per 16 weights, more than the multiply; rows whose
 * halves are all finite (checked once per row, on first use) take a four-operation conversion instead, exact for
 * every finite half (see {@link #loadFinite}). Needs 16-lane float vectors (AVX-512); elsewhere it uses the reference path.
 */
final class F16Matrix extends Matrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;
    private static final float TWO_POW_112 = 0x1p112f;
    private static final float X_SCALE = 0x1p56f;
    private static final float RESULT_SCALE = 0x1p56f;

    private static final byte UNCHECKED = 0;
    private static final byte FINITE = 1;
    private static final byte SPECIAL = 2;

    /** Per row: not yet checked, all halves finite, or some infinity/NaN. Racing writers write the same value. */
    private final byte[] rowKind;
    private final ThreadLocal<float[]> scaledX;
    private final ThreadLocal<float[]> decodedRow;
    private final ThreadLocal<float[][]> scaledBatch = ThreadLocal.withInitial(() -> new float[0][]);

    F16Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.F16, data, rows, cols);
        this.rowKind = new byte[rows];
        this.scaledX = ThreadLocal.withInitial(() -> new float[cols]);
        this.decodedRow = ThreadLocal.withInitial(() -> new float[cols]);
    }

    /**
     * 16 finite halves at byte offset {@code off} as floats: the sign-extended half shifted left by 13 puts exponent
     * and mantissa where a float's go (5 exponent bits in the low end of the float's 8) and the sign in bit 31 once
     * bits 28..30 are masked off; multiplying by 2^112 rebiases the exponent (15 to 127), and makes subnormal
     * halves normal floats. Wrong for infinities and NaNs, which it makes large finite numbers.
     */
    static FloatVector loadFinite(MemorySegment data, long off) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, data, off, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(TWO_POW_112);
    }

    private byte kindOf(int row) {
        byte kind = rowKind[row];
        if (kind != UNCHECKED) return kind;
        long base = row * rowBytes;
        kind = FINITE;
        for (int i = 0; i < cols; i++) {
            if ((data.get(Bits.LE_SHORT, base + 2L * i) & 0x7C00) == 0x7C00) {
                kind = SPECIAL;
                break;
            }
        }
        rowKind[row] = kind;
        return kind;
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
        if (kindOf(row) != FINITE) return dotExact(row, x);
        float[] scaled = scaledX.get();
        scale(x, scaled);
        return dotFinite(row, scaled);
    }

    @Override
    public void matvec(float[] x, float[] out, WorkerPool pool) {
        if (!VECTOR || cols % 16 != 0) {
            super.matvec(x, out, pool);
            return;
        }
        float[] scaled = scaledX.get();
        scale(x, scaled);
        pool.parallelFor(rows, (from, to) -> {
            for (int r = from; r < to; r++) out[r] = kindOf(r) == FINITE ? dotFinite(r, scaled) : dotExact(r, x);
        });
    }

    /** Row by row with the kernels of {@link #matvec}, so a batch gives bit-identical results to one vector at a time. */
    @Override
    public void matmul(float[][] xs, float[][] outs, int n, WorkerPool pool) {
        if (!VECTOR || cols % 16 != 0) {
            super.matmul(xs, outs, n, pool);
            return;
        }
        if (n == 1) { // one token: decoding the row first would only add a pass
            matvec(xs[0], outs[0], pool);
            return;
        }
        float[][] scaled = scaledBatch.get();
        if (scaled.length < n) {
            scaled = new float[n][cols];
            scaledBatch.set(scaled);
        }
        for (int t = 0; t < n; t++) scale(xs[t], scaled[t]);
        float[][] sx = scaled;
        pool.parallelFor(rows, (from, to) -> {
            float[] w = decodedRow.get();
            for (int r = from; r < to; r++) {
                if (kindOf(r) != FINITE) {
                    for (int t = 0; t < n; t++) outs[t][r] = dotExact(r, xs[t]);
                    continue;
                }
                decodeScaled(r, w);
                int t = 0;
                for (; t + 1 < n; t += 2) dotDecoded2(w, sx[t], sx[t + 1], outs[t], outs[t + 1], r);
                if (t < n) outs[t][r] = dotDecoded(w, sx[t]);
            }
        });
    }

    /** Row {@code row} as w * 2^-112 into {@code w}: decoded once, used for every vector of a batch. */
    private void decodeScaled(int row, float[] w) {
        long base = row * rowBytes;
        for (int i = 0; i < cols; i += 16) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(S, data, base + 2L * i, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0);
            h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().intoArray(w, i);
        }
    }

    /** {@link #dotFinite} on a decoded row: the same products in the same accumulators in the same order. */
    private float dotDecoded(float[] w, float[] xScaled) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        int i = 0;
        for (; i + 64 <= cols; i += 64) {
            acc0 = FloatVector.fromArray(F, w, i).fma(FloatVector.fromArray(F, xScaled, i), acc0);
            acc1 = FloatVector.fromArray(F, w, i + 16).fma(FloatVector.fromArray(F, xScaled, i + 16), acc1);
            acc2 = FloatVector.fromArray(F, w, i + 32).fma(FloatVector.fromArray(F, xScaled, i + 32), acc2);
            acc3 = FloatVector.fromArray(F, w, i + 48).fma(FloatVector.fromArray(F, xScaled, i + 48), acc3);
        }
        for (; i < cols; i += 16) acc0 = FloatVector.fromArray(F, w, i).fma(FloatVector.fromArray(F, xScaled, i), acc0);
        return Dot.sumLanes(acc0.add(acc1).add(acc2.add(acc3))) * RESULT_SCALE;
    }

    /** {@link #dotDecoded} for two vectors at once: each weight vector is loaded once for both. */
    private void dotDecoded2(float[] w, float[] x0, float[] x1, float[] out0, float[] out1, int r) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        int i = 0;
        for (; i + 64 <= cols; i += 64) {
            FloatVector w0 = FloatVector.fromArray(F, w, i);
            FloatVector w1 = FloatVector.fromArray(F, w, i + 16);
            FloatVector w2 = FloatVector.fromArray(F, w, i + 32);
            FloatVector w3 = FloatVector.fromArray(F, w, i + 48);
            a0 = w0.fma(FloatVector.fromArray(F, x0, i), a0);
            a1 = w1.fma(FloatVector.fromArray(F, x0, i + 16), a1);
            a2 = w2.fma(FloatVector.fromArray(F, x0, i + 32), a2);
            a3 = w3.fma(FloatVector.fromArray(F, x0, i + 48), a3);
            b0 = w0.fma(FloatVector.fromArray(F, x1, i), b0);
            b1 = w1.fma(FloatVector.fromArray(F, x1, i + 16), b1);
            b2 = w2.fma(FloatVector.fromArray(F, x1, i + 32), b2);
            b3 = w3.fma(FloatVector.fromArray(F, x1, i + 48), b3);
        }
        for (; i < cols; i += 16) {
            FloatVector w0 = FloatVector.fromArray(F, w, i);
            a0 = w0.fma(FloatVector.fromArray(F, x0, i), a0);
            b0 = w0.fma(FloatVector.fromArray(F, x1, i), b0);
        }
        out0[r] = Dot.sumLanes(a0.add(a1).add(a2.add(a3))) * RESULT_SCALE;
        out1[r] = Dot.sumLanes(b0.add(b1).add(b2.add(b3))) * RESULT_SCALE;
    }

    /** x * 2^56: see {@link #dotFinite}. */
    private void scale(float[] x, float[] scaled) {
        int i = 0;
        for (; i + 16 <= cols; i += 16) FloatVector.fromArray(F, x, i).mul(X_SCALE).intoArray(scaled, i);
        for (; i < cols; i++) scaled[i] = x[i] * X_SCALE;
    }

    /**
     * A row of finite halves times x * 2^56. The halves are widened without the 2^112 rebias ({@link #loadFinite}
     * less its multiply), i.e. as w * 2^-112, so each product is w * x * 2^-56 and the sum times 2^56 is the plain
     * float result: scaling by powers of two is exact while values stay in the normal range, which activations of
     * any real model do by many orders of magnitude. Four accumulators: one fused multiply-add chain waits on its
     * latency, four keep the units busy.
     */
    private float dotFinite(int row, float[] xScaled) {
        long base = row * rowBytes;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        int i = 0;
        for (; i + 64 <= cols; i += 64) {
            acc0 = halvesTimes2PowMinus112(base + 2L * i).fma(FloatVector.fromArray(F, xScaled, i), acc0);
            acc1 = halvesTimes2PowMinus112(base + 2L * i + 32).fma(FloatVector.fromArray(F, xScaled, i + 16), acc1);
            acc2 = halvesTimes2PowMinus112(base + 2L * i + 64).fma(FloatVector.fromArray(F, xScaled, i + 32), acc2);
            acc3 = halvesTimes2PowMinus112(base + 2L * i + 96).fma(FloatVector.fromArray(F, xScaled, i + 48), acc3);
        }
        for (; i < cols; i += 16) acc0 = halvesTimes2PowMinus112(base + 2L * i).fma(FloatVector.fromArray(F, xScaled, i), acc0);
        return Dot.sumLanes(acc0.add(acc1).add(acc2.add(acc3))) * RESULT_SCALE;
    }

    private FloatVector halvesTimes2PowMinus112(long off) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, data, off, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
    }

    private float dotExact(int row, float[] x) {
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

    /** The row as floats: the four-operation widening on rows of finite halves, the exact one elsewhere. */
    @Override
    void decodeRow(int row, float[] dst, int off) {
        if (!VECTOR || cols % 16 != 0) {
            super.decodeRow(row, dst, off);
            return;
        }
        long base = row * rowBytes;
        if (kindOf(row) == FINITE) {
            for (int i = 0; i < cols; i += 16) {
                IntVector h = (IntVector) ShortVector.fromMemorySegment(S, data, base + 2L * i, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.S2I, I, 0);
                h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(TWO_POW_112).intoArray(dst, off + i);
            }
        } else {
            for (int i = 0; i < cols; i += 16) load(data, base + 2L * i).intoArray(dst, off + i);
        }
    }
}
