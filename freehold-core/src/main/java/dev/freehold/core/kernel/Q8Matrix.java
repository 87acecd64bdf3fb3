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
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;

    Q8Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q8_0, data, rows, cols);
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
}
