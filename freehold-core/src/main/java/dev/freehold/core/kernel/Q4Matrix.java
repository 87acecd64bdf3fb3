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
 * Q4_0 weights (blocks of f16 scale + 16 bytes of nibbles): low nibbles are values 0..15 of the block, high
 * nibbles 16..31, each minus 8. Needs 16-lane float vectors (AVX-512); elsewhere it uses the reference path.
 */
final class Q4Matrix extends Matrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;

    Q4Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_0, data, rows, cols);
    }

    @Override
    public float dot(int row, float[] x) {
        if (!VECTOR) return super.dot(row, x);
        long block = row * rowBytes;
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < cols; i += 32, block += 18) {
            float d = Bits.f16(data, block);
            ByteVector q = ByteVector.fromMemorySegment(B, data, block + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector lo = q.and((byte) 0x0F).sub((byte) 8);
            ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8);
            FloatVector f0 = (FloatVector) lo.convertShape(VectorOperators.B2F, F, 0);
            FloatVector f1 = (FloatVector) hi.convertShape(VectorOperators.B2F, F, 0);
            FloatVector s = f0.mul(FloatVector.fromArray(F, x, i)).add(f1.mul(FloatVector.fromArray(F, x, i + 16)));
            acc = s.fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
