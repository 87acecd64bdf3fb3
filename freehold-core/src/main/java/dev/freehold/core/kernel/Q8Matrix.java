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
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** The block's 32 quantised values (without the scale). */
    private void decodeBlock(long block, float[] w) {
        for (int j = 0; j < 32; j++) w[j] = Bits.s8(data, block + 2 + j);
    }

    float dotQ8(int row, Q8Activations a) {
        long block = row * rowBytes;
        float sum = 0f;
        for (int i = 0, b = 0; i < cols; i += 32, b++, block += BLOCK_BYTES) {
            FloatVector w0 = (FloatVector) ByteVector.fromMemorySegment(B, data, block + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2F, F, 0);
            FloatVector w1 = (FloatVector) ByteVector.fromMemorySegment(B, data, block + 18, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2F, F, 0);
            // Products of integers up to 127 summed over 32 lanes stay below 2^24: exact in float.
            float s = w0.mul(FloatVector.fromArray(F, a.q, i)).add(w1.mul(FloatVector.fromArray(F, a.q, i + 16)))
                    .reduceLanes(VectorOperators.ADD);
            sum += s * (Bits.f16(data, block) * a.d[b]);
        }
        return sum;
    }
}
