package dev.freehold.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One query head attending to its cached keys and values: scores, softmax, weighted sum of values. The engine calls it
 * per (token, head).
 *
 * <p>Keys are cached in tiles of {@link #TILE} positions ({@link #keyIndex}): within a tile, each key dimension's
 * values for the 16 positions lie side by side. A tile's 16 scores are then one vector multiply-add per dimension
 * with the query's component broadcast, and no lane ever has to be summed; with keys stored position by position each
 * score was a 64-long dot product followed by a 16-lane sum, which made decoding at a few hundred positions of context
 * a fifth slower. Values stay position by position: their weighted sum is a multiply-add per position already.
 *
 * <p>Every operation is an IEEE add, multiply or fused multiply-add in a fixed order (a score is q0*k0 then a fused
 * multiply-add per further dimension, the same in a vector lane as in the scalar code used for partial tiles; the
 * exponential is {@link VectorMath}'s polynomial), so a head's result depends only on its inputs: decoding a token
 * alone or in a batch, with any chunking of the prompt, gives the same bits.
 */
public final class AttentionKernel {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 16;

    /** Positions per key tile. */
    public static final int TILE = 16;

    private AttentionKernel() {
    }

    /** Where dimension {@code i} (of {@code kvDim}) of the key at {@code position} is cached. */
    public static int keyIndex(int position, int i, int kvDim) {
        return ((position / TILE) * kvDim + i) * TILE + position % TILE;
    }

    /** Floats a key cache of {@code capacity} positions needs: whole tiles. */
    public static long keyCacheSize(int capacity, int kvDim) {
        return (long) ((capacity + TILE - 1) / TILE) * TILE * kvDim;
    }

    /**
     * {@code out[qo..qo+hd) = sum_t softmax_t * values[t*stride + vo ..]} over positions {@code first..last}, with
     * scores {@code scale * query[qo..] . key_t} (key dimension i of position t at
     * {@code keyTiles[keyIndex(t, kvo + i, stride)]}), soft-capped by {@code cap} when it is positive. {@code sc} holds
     * at least last + 1 floats of scratch; {@code lanes} at least 16.
     */
    public static void attend(float[] query, int qo, float[] keyTiles, float[] values, int kvo, int stride, int hd,
                              int first, int last, float scale, float cap, float[] out, float[] sc, float[] lanes) {
        boolean vector = VECTOR && hd % 16 == 0;
        int t = first;
        if (VECTOR) {
            for (; t <= last && t % TILE != 0; t++) sc[t] = score(query, qo, keyTiles, kvo, stride, hd, t);
            // Four tiles at a time: each lane's sum is a chain of dependent multiply-adds, so one tile alone waits on
            // the multiply-add's latency; four independent chains keep the unit busy (the same operations per lane).
            for (; t + 4 * TILE - 1 <= last; t += 4 * TILE) {
                int b0 = keyIndex(t, kvo, stride);
                int b1 = keyIndex(t + TILE, kvo, stride);
                int b2 = keyIndex(t + 2 * TILE, kvo, stride);
                int b3 = keyIndex(t + 3 * TILE, kvo, stride);
                float q0 = query[qo];
                FloatVector a0 = FloatVector.fromArray(F, keyTiles, b0).mul(q0);
                FloatVector a1 = FloatVector.fromArray(F, keyTiles, b1).mul(q0);
                FloatVector a2 = FloatVector.fromArray(F, keyTiles, b2).mul(q0);
                FloatVector a3 = FloatVector.fromArray(F, keyTiles, b3).mul(q0);
                for (int i = 1; i < hd; i++) {
                    FloatVector q = FloatVector.broadcast(F, query[qo + i]);
                    a0 = FloatVector.fromArray(F, keyTiles, b0 + TILE * i).fma(q, a0);
                    a1 = FloatVector.fromArray(F, keyTiles, b1 + TILE * i).fma(q, a1);
                    a2 = FloatVector.fromArray(F, keyTiles, b2 + TILE * i).fma(q, a2);
                    a3 = FloatVector.fromArray(F, keyTiles, b3 + TILE * i).fma(q, a3);
                }
                a0.intoArray(sc, t);
                a1.intoArray(sc, t + TILE);
                a2.intoArray(sc, t + 2 * TILE);
                a3.intoArray(sc, t + 3 * TILE);
            }
            for (; t + TILE - 1 <= last; t += TILE) {
                int base = keyIndex(t, kvo, stride);
                FloatVector acc = FloatVector.fromArray(F, keyTiles, base).mul(query[qo]);
                for (int i = 1; i < hd; i++) {
                    acc = FloatVector.fromArray(F, keyTiles, base + TILE * i).fma(FloatVector.broadcast(F, query[qo + i]), acc);
                }
                acc.intoArray(sc, t);
            }
        }
        for (; t <= last; t++) sc[t] = score(query, qo, keyTiles, kvo, stride, hd, t);
        float max = Float.NEGATIVE_INFINITY;
        for (t = first; t <= last; t++) {
            float v = sc[t] * scale;
            if (cap > 0) v = cap * (float) Math.tanh(v / cap);
            sc[t] = v;
            if (v > max) max = v;
        }
        float inv = 1f / VectorMath.expShifted(sc, first, last + 1, max, lanes);
        if (vector) {
            int i = 0;
            // Four 16-dimension slices per pass over the positions: four independent chains of multiply-adds (one
            // alone waits on its latency) and one broadcast weight per position for all four.
            for (; i + 64 <= hd; i += 64) {
                FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
                for (t = first; t <= last; t++) {
                    FloatVector p = FloatVector.broadcast(F, sc[t] * inv);
                    int vo = t * stride + kvo + i;
                    a0 = FloatVector.fromArray(F, values, vo).fma(p, a0);
                    a1 = FloatVector.fromArray(F, values, vo + 16).fma(p, a1);
                    a2 = FloatVector.fromArray(F, values, vo + 32).fma(p, a2);
                    a3 = FloatVector.fromArray(F, values, vo + 48).fma(p, a3);
                }
                a0.intoArray(out, qo + i);
                a1.intoArray(out, qo + i + 16);
                a2.intoArray(out, qo + i + 32);
                a3.intoArray(out, qo + i + 48);
            }
            for (; i < hd; i += 16) {
                FloatVector acc = FloatVector.zero(F);
                for (t = first; t <= last; t++) {
                    acc = FloatVector.fromArray(F, values, t * stride + kvo + i).fma(FloatVector.broadcast(F, sc[t] * inv), acc);
                }
                acc.intoArray(out, qo + i);
            }
        } else {
            java.util.Arrays.fill(out, qo, qo + hd, 0f);
            for (t = first; t <= last; t++) {
                float p = sc[t] * inv;
                int vo = t * stride + kvo;
                for (int i = 0; i < hd; i++) out[qo + i] = Math.fma(p, values[vo + i], out[qo + i]);
            }
        }
    }

    /** One position's score before scaling, with the arithmetic of a lane of {@link #attend}'s tiles. */
    private static float score(float[] query, int qo, float[] keyTiles, int kvo, int stride, int hd, int t) {
        int base = keyIndex(t, kvo, stride);
        float dot = query[qo] * keyTiles[base];
        for (int i = 1; i < hd; i++) dot = Math.fma(query[qo + i], keyTiles[base + TILE * i], dot);
        return dot;
    }
}
