package dev.freehold.core.kernel;

import dev.freehold.core.tensor.Bits;
import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0 weights (blocks of f16 scale + 32 int8): each block's 32 values are widened to float 16 lanes at a time
 * and multiplied with the activations; the block sum is scaled once. Needs 16-lane float vectors (AVX-512);
 * elsewhere it uses the reference path.
 */
final class Q8Matrix extends Matrix {
    private static final int BLOCK_BYTES = 34;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;

    Q8Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q8_0, data, rows, cols);
    }

    private final ThreadLocal<Q8Activations> activations = ThreadLocal.withInitial(() -> new Q8Activations(cols));

    /** As ggml: the activations are quantised to Q8_0 once, then each row's blocks are multiplied with them. */
    @Override
    public void matvec(float[] x, float[] out, WorkerPool pool) {
        Q8Activations a = activations.get();
        a.quantize(x, cols);
        pool.parallelFor(rows, (from, to) -> {
            for (int r = from; r < to; r++) out[r] = VECTOR ? dotQ8(r, a) : dotQ8Scalar(r, a);
        });
    }

    private final ThreadLocal<float[]> rowInts = ThreadLocal.withInitial(() -> new float[cols]);
    private final ThreadLocal<Q8Activations[]> batchActivations = new ThreadLocal<>();

    /** As ggml for batches: every vector quantised to Q8_0, each row's blocks decoded once and used for all of them. */
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
            float[] unit = new float[32];
            for (int r = from; r < to; r++) {
                long block = r * rowBytes;
                for (int b = 0; b < nb; b++, block += BLOCK_BYTES) {
                    decodeBlock(block, unit);
                    System.arraycopy(unit, 0, w, b * 32, 32);
                    blockScale[b] = Bits.f16(data, block);
                }
                // Same operations in the same order as dotQ8, so a batch gives bit-identical results to
                // one vector at a time (a last-bit difference could flip a later activation's rounding).
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

    private static FloatVector decodedProducts(float[] w, float[] xq, int i) {
        return FloatVector.fromArray(F, w, i).mul(FloatVector.fromArray(F, xq, i))
                .add(FloatVector.fromArray(F, w, i + 16).mul(FloatVector.fromArray(F, xq, i + 16)));
    }

    /** Scalar reference of {@link #dotQ8}: exact integer block sums scaled by d_w * d_x. */
    float dotQ8Scalar(int row, Q8Activations a) {
        float[] w = new float[32];
        float sum = 0f;
        long block = row * rowBytes;
        for (int b = 0; b < cols / 32; b++, block += BLOCK_BYTES) {
            decodeBlock(block, w);
            float s = 0f;
            for (int j = 0; j < 32; j++) s += w[j] * a.q[b * 32 + j];
            sum += s * (Bits.f16(data, block) * a.d[b]);
        }
        return sum;
    }

    @Override
    public float dot(int row, float[] x) {
        if (!VECTOR) return super.dot(row, x);
        long block = row * rowBytes;
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < cols; i += 32, block += 34) {
            float d = Bits.f16(data, block);
            FloatVector q0 = (FloatVector) ByteVector.fromMemorySegment(B, data, block + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2F, F, 0);
            FloatVector q1 = (FloatVector) ByteVector.fromMemorySegment(B, data, block + 18, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2F, F, 0);
            FloatVector s = q0.mul(FloatVector.fromArray(F, x, i)).add(q1.mul(FloatVector.fromArray(F, x, i + 16)));
            acc = s.fma(FloatVector.broadcast(F, d), acc);
        }
        return Dot.sumLanes(acc);
    }

    /** The block's 32 quantised values (without the scale). */
    private void decodeBlock(long block, float[] w) {
        for (int j = 0; j < 32; j++) w[j] = Bits.s8(data, block + 2 + j);
    }

    float dotQ8(int row, Q8Activations a) {
        long block = row * rowBytes;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int nb = cols / 32;
        int b = 0;
        // Two blocks per iteration into two accumulators; each block's products (exact small integers) are scaled
        // by d_w * d_x with one broadcast FMA, so no lane reduction is needed until the end.
        for (; b + 1 < nb; b += 2, block += 2 * BLOCK_BYTES) {
            acc0 = blockProducts(block, a.q, b * 32).fma(FloatVector.broadcast(F, Bits.f16(data, block) * a.d[b]), acc0);
            acc1 = blockProducts(block + BLOCK_BYTES, a.q, b * 32 + 32)
                    .fma(FloatVector.broadcast(F, Bits.f16(data, block + BLOCK_BYTES) * a.d[b + 1]), acc1);
        }
        if (b < nb) acc0 = blockProducts(block, a.q, b * 32).fma(FloatVector.broadcast(F, Bits.f16(data, block) * a.d[b]), acc0);
        return Dot.sumLanes(acc0.add(acc1));
    }

    private FloatVector blockProducts(long block, float[] xq, int i) {
        FloatVector w0 = (FloatVector) ByteVector.fromMemorySegment(B, data, block + 2, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, F, 0);
        FloatVector w1 = (FloatVector) ByteVector.fromMemorySegment(B, data, block + 18, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, F, 0);
        return w0.mul(FloatVector.fromArray(F, xq, i)).add(w1.mul(FloatVector.fromArray(F, xq, i + 16)));
    }

}
