package dev.freehold.core.kernel;

import dev.freehold.core.tensor.Bits;
import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Q4_0: an f16 scale, then 16 bytes whose low nibbles are values 0..15 and high nibbles 16..31, each minus 8. */
final class Q4Matrix extends Block32Matrix {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;

    Q4Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q4_0, data, rows, cols);
    }

    @Override
    FloatVector blockProducts(long block, float[] v, int i) {
        ByteVector q = ByteVector.fromMemorySegment(B, data, block + 2, ByteOrder.LITTLE_ENDIAN);
        FloatVector lo = (FloatVector) q.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0);
        FloatVector hi = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8)
                .convertShape(VectorOperators.B2F, F, 0);
        return lo.mul(FloatVector.fromArray(F, v, i)).add(hi.mul(FloatVector.fromArray(F, v, i + 16)));
    }

    @Override
    void decodeBlockInto(long block, float[] w, int off) {
        ByteVector q = ByteVector.fromMemorySegment(B, data, block + 2, ByteOrder.LITTLE_ENDIAN);
        ((FloatVector) q.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).intoArray(w, off);
        ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8)
                .convertShape(VectorOperators.B2F, F, 0)).intoArray(w, off + 16);
    }

    @Override
    void decodeBlock(long block, float[] w) {
        for (int j = 0; j < 16; j++) {
            int q = Bits.u8(data, block + 2 + j);
            w[j] = (q & 0x0F) - 8;
            w[j + 16] = (q >>> 4) - 8;
        }
    }
}
