package dev.freehold.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The exponential of softmax with vector instructions: a polynomial of IEEE operations in a fixed order, rather than
 * {@code Math.exp} per element (slow) or {@code VectorOperators.EXP} (its compiled and interpreted forms may differ in
 * the last bit); the vector lanes and the scalar tail give the same bits.
 *
 * <p>A SwiGLU gate built on it (clamped at both ends, a division) made a server test's sampled text vary from run
 * to run, although 40 runs of the engine in one JVM gave identical bits; the cause was not found, so SwiGLU stays
 * on {@code Math.exp}.
 */
public final class VectorMath {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    static final float ROUND = 12582912f; // 1.5 * 2^23: adding it rounds a float below 2^22 to an integer
    private static final float EXP_MIN = -87.3f; // below, e^x is under the smallest normal float: flushed to 0
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    private VectorMath() {
    }

    /**
     * {@code a[i] = e^(a[i] - shift)} for i in [from, to), returning their sum. The exponential: x = n ln2 + r with
     * |r| <= ln2/2 (ln2 in two parts, so r is exact), e^r by Cephes' degree-7 polynomial for single precision (within
     * 2 ulp), times 2^n built in the exponent bits. Arguments below -87.3 give 0.
     */
    public static float expShifted(float[] a, int from, int to, float shift, float[] lanes) {
        int i = from;
        float sum = 0f;
        if (VECTOR && to - from >= 16) {
            FloatVector total = FloatVector.zero(F);
            for (; i + 16 <= to; i += 16) {
                FloatVector x = FloatVector.fromArray(F, a, i).sub(shift);
                var tiny = x.compare(VectorOperators.LT, EXP_MIN);
                x = x.max(EXP_MIN);
                FloatVector n = x.fma(LOG2E, ROUND).sub(ROUND);
                FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), x);
                r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
                FloatVector p = r.fma(P0, P1);
                p = p.fma(r, FloatVector.broadcast(F, P2));
                p = p.fma(r, FloatVector.broadcast(F, P3));
                p = p.fma(r, FloatVector.broadcast(F, P4));
                p = p.fma(r, FloatVector.broadcast(F, P5));
                p = p.mul(r.mul(r)).add(r).add(1f);
                IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
                FloatVector e = p.mul(bits.reinterpretAsFloats()).blend(0f, tiny);
                e.intoArray(a, i);
                total = total.add(e);
            }
            total.intoArray(lanes, 0);
            sum = Dot.sumLanes16(lanes, 0);
        }
        for (; i < to; i++) {
            float e = exp(a[i] - shift);
            a[i] = e;
            sum += e;
        }
        return sum;
    }

    /** The scalar form of {@link #expShifted}'s exponential, the same operations in the same order. */
    static float exp(float x) {
        if (x < EXP_MIN) return 0f;
        float n = Math.fma(x, LOG2E, ROUND) - ROUND;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        p = p * (r * r) + r + 1f;
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }
}
