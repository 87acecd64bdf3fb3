package dev.freehold.core.kernel;

import dev.freehold.core.tensor.Bits;
import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Q8_0: an f16 scale, then 32 signed bytes, widened 16 at a time. */
final class Q8Matrix extends Block32Matrix {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;

    Q8Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q8_0, data, rows, cols);
    }

    @Override
    FloatVector blockProducts(long block, float[] v, int i) {
        FloatVector w0 = (FloatVector) ByteVector.fromMemorySegment(B, data, block + 2, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, F, 0);
        FloatVector w1 = (FloatVector) ByteVector.fromMemorySegment(B, data, block + 18, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, F, 0);
        return w0.mul(FloatVector.fromArray(F, v, i)).add(w1.mul(FloatVector.fromArray(F, v, i + 16)));
    }

    @Override
    void decodeBlockInto(long block, float[] w, int off) {
        ((FloatVector) ByteVector.fromMemorySegment(B, data, block + 2, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, F, 0)).intoArray(w, off);
        ((FloatVector) ByteVector.fromMemorySegment(B, data, block + 18, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, F, 0)).intoArray(w, off + 16);
    }

    @Override
    void decodeBlock(long block, float[] w) {
        for (int j = 0; j < 32; j++) w[j] = Bits.s8(data, block + 2 + j);
    }
}
