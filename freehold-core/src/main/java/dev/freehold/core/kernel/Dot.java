package dev.freehold.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Vectorised dot product of float arrays. */
final class Dot {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Dot() {
    }

    /**
     * The sum of a vector's lanes in lane order. reduceLanes(ADD) on floats may add in any order, and the order
     * can differ between interpreted and compiled code; results would then depend on JIT timing.
     */
    static float sumLanes(FloatVector v) {
        if (v.length() == 16) {
            // A fixed pairwise tree: halves added lane-wise (16 -> 8 -> 4), then four scalars in order.
            FloatVector h8 = ((FloatVector) v.reinterpretShape(FloatVector.SPECIES_256, 0))
                    .add((FloatVector) v.reinterpretShape(FloatVector.SPECIES_256, 1));
            FloatVector h4 = ((FloatVector) h8.reinterpretShape(FloatVector.SPECIES_128, 0))
                    .add((FloatVector) h8.reinterpretShape(FloatVector.SPECIES_128, 1));
            return (h4.lane(0) + h4.lane(1)) + (h4.lane(2) + h4.lane(3));
        }
        if (v.length() == 8) {
            FloatVector h4 = ((FloatVector) v.reinterpretShape(FloatVector.SPECIES_128, 0))
                    .add((FloatVector) v.reinterpretShape(FloatVector.SPECIES_128, 1));
            return (h4.lane(0) + h4.lane(1)) + (h4.lane(2) + h4.lane(3));
        }
        float[] lanes = v.toArray();
        float sum = 0f;
        for (float f : lanes) sum += f;
        return sum;
    }

    /** {@link #sumLanes} of a 16-lane vector stored at {@code l[o..o+16)}, in the same order of additions. */
    static float sumLanes16(float[] l, int o) {
        float g0 = (l[o] + l[o + 8]) + (l[o + 4] + l[o + 12]);
        float g1 = (l[o + 1] + l[o + 9]) + (l[o + 5] + l[o + 13]);
        float g2 = (l[o + 2] + l[o + 10]) + (l[o + 6] + l[o + 14]);
        float g3 = (l[o + 3] + l[o + 11]) + (l[o + 7] + l[o + 15]);
        return (g0 + g1) + (g2 + g3);
    }

    /** {@link #sumLanes} of an 8-lane vector stored at {@code l[o..o+8)}, in the same order of additions. */
    static float sumLanes8(float[] l, int o) {
        return ((l[o] + l[o + 4]) + (l[o + 1] + l[o + 5])) + ((l[o + 2] + l[o + 6]) + (l[o + 3] + l[o + 7]));
    }

    static float dot(float[] a, float[] b, int n) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        int step = 2 * F.length();
        for (; i + step <= n; i += step) {
            acc0 = FloatVector.fromArray(F, a, i).fma(FloatVector.fromArray(F, b, i), acc0);
            acc1 = FloatVector.fromArray(F, a, i + F.length()).fma(FloatVector.fromArray(F, b, i + F.length()), acc1);
        }
        float sum = sumLanes(acc0.add(acc1));
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }
}
