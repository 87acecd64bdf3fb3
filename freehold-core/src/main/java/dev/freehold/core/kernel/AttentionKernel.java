package dev.freehold.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * One query head attending to its cached keys and values: scores, softmax, weighted sum of values. The engine calls it
 * per (token, head); prompts spend a quarter of their time here when it is scalar (a 64-long dot product per cached
 * position is a chain of dependent additions, and {@code Math.exp} per position is slow).
 *
 * <p>Every operation is an IEEE add, multiply or fused multiply-add in a fixed order (the exponential is a polynomial,
 * not {@code VectorOperators.EXP}, whose compiled and interpreted forms may differ in the last bit), so a head's
 * result depends only on its inputs: decoding a token alone or in a batch gives the same bits.
 */
public final class AttentionKernel {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f; // 1.5 * 2^23: adding it rounds a float below 2^22 to an integer
    private static final float EXP_MIN = -87.3f; // below, e^x is under the smallest normal float: flushed to 0
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    private AttentionKernel() {
    }

    /**
     * {@code out[qo..qo+hd) = sum_t softmax_t * values[t*stride + vo ..]} over positions {@code first..last}, with
     * scores {@code scale * query[qo..] . keys[t*stride + ko ..]}, soft-capped by {@code cap} when it is positive.
     * {@code sc} holds at least last + 1 floats of scratch; {@code lanes} at least 16.
     */
    public static void attend(float[] query, int qo, float[] keys, float[] values, int kvo, int stride, int hd,
                              int first, int last, float scale, float cap, float[] out, float[] sc, float[] lanes) {
        boolean vector = VECTOR && hd % 16 == 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int t = first; t <= last; t++) {
            int ko = t * stride + kvo;
            float dot;
            if (vector) {
                FloatVector acc = FloatVector.fromArray(F, query, qo).mul(FloatVector.fromArray(F, keys, ko));
                for (int i = 16; i < hd; i += 16) {
                    acc = FloatVector.fromArray(F, query, qo + i).fma(FloatVector.fromArray(F, keys, ko + i), acc);
                }
                dot = Dot.sumLanes(acc); // in registers: through memory, the lane sum would cost more than the products
            } else {
                dot = 0f;
                for (int i = 0; i < hd; i++) dot += query[qo + i] * keys[ko + i];
            }
            float v = dot * scale;
            if (cap > 0) v = cap * (float) Math.tanh(v / cap);
            sc[t] = v;
            if (v > max) max = v;
        }
        float inv = 1f / expShifted(sc, first, last + 1, max, lanes);
        if (vector) {
            for (int i = 0; i < hd; i += 16) {
                FloatVector acc = FloatVector.zero(F);
                for (int t = first; t <= last; t++) {
                    acc = FloatVector.fromArray(F, values, t * stride + kvo + i).fma(FloatVector.broadcast(F, sc[t] * inv), acc);
                }
                acc.intoArray(out, qo + i);
            }
        } else {
            java.util.Arrays.fill(out, qo, qo + hd, 0f);
            for (int t = first; t <= last; t++) {
                float p = sc[t] * inv;
                int vo = t * stride + kvo;
                for (int i = 0; i < hd; i++) out[qo + i] = Math.fma(p, values[vo + i], out[qo + i]);
            }
        }
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
