package dev.freehold.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One query head attending to its cached keys and values: scores, softmax, weighted sum of values. The engine calls it
 * per (token, head); prompts spend a quarter of their time here when it is scalar (a 64-long dot product per cached
 * position is a chain of dependent additions, and {@code Math.exp} per position is slow).
 *
 * <p>Every operation is an IEEE add, multiply or fused multiply-add in a fixed order (the exponential is
 * {@link VectorMath}'s polynomial), so a head's result depends only on its inputs: decoding a token alone or in a
 * batch gives the same bits.
 */
public final class AttentionKernel {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;

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
        float inv = 1f / VectorMath.expShifted(sc, first, last + 1, max, lanes);
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

}
