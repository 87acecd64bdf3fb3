package dev.freehold.core.tensor;

import static dev.freehold.core.tensor.Bits.LE_FLOAT;
import static dev.freehold.core.tensor.Bits.LE_SHORT;
import static dev.freehold.core.tensor.Bits.f16;
import static dev.freehold.core.tensor.Bits.nearestInt;
import static dev.freehold.core.tensor.Bits.putF16;
import static dev.freehold.core.tensor.Bits.roundTripF16;
import static dev.freehold.core.tensor.KQuantMath.makeQ3Quants;
import static dev.freehold.core.tensor.KQuantMath.makeQkx2Quants;
import static dev.freehold.core.tensor.KQuantMath.makeQxQuants;
import static dev.freehold.core.tensor.KQuantMath.minK4;
import static dev.freehold.core.tensor.KQuantMath.packScalesK4;
import static dev.freehold.core.tensor.KQuantMath.scaleK4;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The 256-element super-block types Q2_K .. Q8_K, bit-exact to ggml's reference (non-imatrix) quantisers.
 *
 * <p>Layouts (byte offsets): Q2_K scales[16]@0 qs[64]@16 d@80 dmin@82; Q3_K hmask[32]@0 qs[64]@32
 * scales[12]@96 d@108; Q4_K d@0 dmin@2 scales[12]@4 qs[128]@16; Q5_K d@0 dmin@2 scales[12]@4 qh[32]@16
 * qs[128]@48; Q6_K ql[128]@0 qh[64]@128 scales[16]@192 d@208; Q8_K f32 d@0 qs[256]@4 bsums[16]@260.
 *
 * <p>The quantisers keep scratch state per call; they are not meant to be shared across threads
 * concurrently within one block (each call allocates its own small scratch arrays).
 */
final class KQuants {
    private KQuants() {
    }

    static final int QK_K = 256;

    private static byte[] bytes(MemorySegment s, long off, int n) {
        byte[] b = new byte[n];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off, b, 0, n);
        return b;
    }

    private static void write(MemorySegment s, long off, byte[] b) {
        MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, off, b.length);
    }

    /** Packs 2-bit levels L[0..255] four to a byte, as Q2_K and Q3_K store them. */
    private static byte[] pack2Bit(int[] L) {
        byte[] qs = new byte[QK_K / 4];
        for (int j = 0; j < QK_K; j += 128) {
            for (int l = 0; l < 32; ++l) {
                qs[j / 4 + l] = (byte) (L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
            }
        }
        return qs;
    }

    // ----------------------------------------------------------------------------------------- Q2_K

    static final TensorCodec Q2_K = new BlockCodec(GgmlType.Q2_K) {
        @Override
        void dequantizeBlock(MemorySegment s, long off, float[] y, int o) {
            byte[] scales = bytes(s, off, 16);
            byte[] q = bytes(s, off + 16, 64);
            float d = f16(s, off + 80);
            float min = f16(s, off + 82);
            int is = 0;
            int qo = 0;
            for (int n = 0; n < QK_K; n += 128) {
                int shift = 0;
                for (int j = 0; j < 4; ++j) {
                    int sc = scales[is++] & 0xFF;
                    float dl = d * (sc & 0xF);
                    float ml = min * (sc >>> 4);
                    for (int l = 0; l < 16; ++l) y[o++] = dl * (((q[qo + l] & 0xFF) >>> shift) & 3) - ml;
                    sc = scales[is++] & 0xFF;
                    dl = d * (sc & 0xF);
                    ml = min * (sc >>> 4);
                    for (int l = 0; l < 16; ++l) y[o++] = dl * (((q[qo + l + 16] & 0xFF) >>> shift) & 3) - ml;
                    shift += 2;
                }
                qo += 32;
            }
        }

        @Override
        void quantizeBlock(float[] x, int xo, MemorySegment s, long off) {
            int[] L = new int[QK_K];
            int[] laux = new int[16];
            float[] weights = new float[16];
            float[] mins = new float[QK_K / 16];
            float[] scales = new float[QK_K / 16];
            final float q4scale = 15.f;
            float maxScale = 0;
            float maxMin = 0;
            for (int j = 0; j < QK_K / 16; ++j) {
                for (int l = 0; l < 16; ++l) weights[l] = Math.abs(x[xo + 16 * j + l]);
                scales[j] = makeQkx2Quants(16, 3, x, xo + 16 * j, weights, L, 16 * j, mins, j, laux, -0.5f, 0.1f, 15, true);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            int[] sc = new int[16];
            float d;
            float dmin;
            if (maxScale > 0) {
                float iscale = q4scale / maxScale;
                for (int j = 0; j < 16; ++j) sc[j] = nearestInt(iscale * scales[j]) & 0xFF;
                d = maxScale / q4scale;
            } else {
                d = 0.f;
            }
            if (maxMin > 0) {
                float iscale = q4scale / maxMin;
                for (int j = 0; j < 16; ++j) sc[j] = (sc[j] | (nearestInt(iscale * mins[j]) << 4)) & 0xFF;
                dmin = maxMin / q4scale;
            } else {
                dmin = 0.f;
            }
            float dq = roundTripF16(d);
            float dminq = roundTripF16(dmin);
            for (int j = 0; j < 16; ++j) {
                float dd = dq * (sc[j] & 0xF);
                if (dd == 0) continue;
                float dm = dminq * (sc[j] >>> 4);
                for (int ii = 0; ii < 16; ++ii) {
                    int l = nearestInt((x[xo + 16 * j + ii] + dm) / dd);
                    L[16 * j + ii] = Math.max(0, Math.min(3, l));
                }
            }
            byte[] scb = new byte[16];
            for (int j = 0; j < 16; ++j) scb[j] = (byte) sc[j];
            write(s, off, scb);
            write(s, off + 16, pack2Bit(L));
            putF16(s, off + 80, d);
            putF16(s, off + 82, dmin);
        }
    };

    // ----------------------------------------------------------------------------------------- Q3_K

    /** The j-th signed 6-bit scale of the 12-byte Q3_K scales field. */
    private static int scaleQ3(byte[] sc, int j) {
        int low = j < 8 ? sc[j] & 0xF : (sc[j - 8] & 0xFF) >>> 4;
        int high = ((sc[8 + j % 4] & 0xFF) >>> (2 * (j / 4))) & 3;
        return (low | (high << 4)) - 32;
    }

    static final TensorCodec Q3_K = new BlockCodec(GgmlType.Q3_K) {
        @Override
        void dequantizeBlock(MemorySegment s, long off, float[] y, int o) {
            byte[] hm = bytes(s, off, 32);
            byte[] q = bytes(s, off + 32, 64);
            byte[] sc = bytes(s, off + 96, 12);
            float dAll = f16(s, off + 108);
            int is = 0;
            int qo = 0;
            int m = 1;
            for (int n = 0; n < QK_K; n += 128) {
                int shift = 0;
                for (int j = 0; j < 4; ++j) {
                    float dl = dAll * scaleQ3(sc, is++);
                    for (int l = 0; l < 16; ++l) {
                        y[o++] = dl * ((((q[qo + l] & 0xFF) >>> shift) & 3) - ((hm[l] & m) != 0 ? 0 : 4));
                    }
                    dl = dAll * scaleQ3(sc, is++);
                    for (int l = 0; l < 16; ++l) {
                        y[o++] = dl * ((((q[qo + l + 16] & 0xFF) >>> shift) & 3) - ((hm[l + 16] & m) != 0 ? 0 : 4));
                    }
                    shift += 2;
                    m <<= 1;
                }
                qo += 32;
            }
        }

        @Override
        void quantizeBlock(float[] x, int xo, MemorySegment s, long off) {
            int[] L = new int[QK_K];
            float[] scales = new float[QK_K / 16];
            float maxScale = 0;
            float amax = 0;
            for (int j = 0; j < QK_K / 16; ++j) {
                scales[j] = makeQ3Quants(16, 4, x, xo + 16 * j, L, 16 * j);
                float scale = Math.abs(scales[j]);
                if (scale > amax) {
                    amax = scale;
                    maxScale = scales[j];
                }
            }
            byte[] sc = new byte[12];
            float d;
            if (maxScale != 0) {
                float iscale = -32.f / maxScale;
                for (int j = 0; j < QK_K / 16; ++j) {
                    int l = (byte) nearestInt(iscale * scales[j]);
                    l = Math.max(-32, Math.min(31, l)) + 32;
                    if (j < 8) {
                        sc[j] = (byte) (l & 0xF);
                    } else {
                        sc[j - 8] |= (byte) ((l & 0xF) << 4);
                    }
                    l >>= 4;
                    sc[j % 4 + 8] |= (byte) (l << (2 * (j / 4)));
                }
                d = 1 / iscale;
            } else {
                d = 0.f;
            }
            float dq = roundTripF16(d);
            for (int j = 0; j < QK_K / 16; ++j) {
                float dd = dq * scaleQ3(sc, j);
                if (dd == 0) continue;
                for (int ii = 0; ii < 16; ++ii) {
                    int l = nearestInt(x[xo + 16 * j + ii] / dd);
                    L[16 * j + ii] = Math.max(-4, Math.min(3, l)) + 4;
                }
            }
            byte[] hmask = new byte[QK_K / 8];
            int m = 0;
            int hm = 1;
            for (int j = 0; j < QK_K; ++j) {
                if (L[j] > 3) {
                    hmask[m] |= (byte) hm;
                    L[j] -= 4;
                }
                if (++m == QK_K / 8) {
                    m = 0;
                    hm <<= 1;
                }
            }
            write(s, off, hmask);
            write(s, off + 32, pack2Bit(L));
            write(s, off + 96, sc);
            putF16(s, off + 108, d);
        }
    };

    // ------------------------------------------------------------------------------ Q4_K and Q5_K

    /**
     * The shared first half of the Q4_K / Q5_K reference quantisers: per 32-value sub-block scale and min
     * search, 6-bit packing of both, and the final levels L[0..255] in [0, nmax].
     */
    private static void quantizeScaleMinK(float[] x, int xo, int nmax, float rmin, float rdelta, int nstep,
                                          MemorySegment s, long off, int[] L) {
        int[] laux = new int[32];
        float[] weights = new float[32];
        float[] mins = new float[QK_K / 32];
        float[] scales = new float[QK_K / 32];
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < QK_K / 32; ++j) {
            float sumX2 = 0;
            for (int l = 0; l < 32; ++l) sumX2 += x[xo + 32 * j + l] * x[xo + 32 * j + l];
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; ++l) weights[l] = avX + Math.abs(x[xo + 32 * j + l]);
            scales[j] = makeQkx2Quants(32, nmax, x, xo + 32 * j, weights, L, 32 * j, mins, j, laux, rmin, rdelta, nstep, false);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        int[] ls = new int[8];
        int[] lm = new int[8];
        for (int j = 0; j < 8; ++j) {
            ls[j] = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
            lm[j] = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
        }
        byte[] packed = new byte[12];
        packScalesK4(ls, lm, packed);
        float d = maxScale / 63.f;
        float dmin = maxMin / 63.f;
        putF16(s, off, d);
        putF16(s, off + 2, dmin);
        write(s, off + 4, packed);
        float dq = roundTripF16(d);
        float dminq = roundTripF16(dmin);
        for (int j = 0; j < QK_K / 32; ++j) {
            float dd = dq * scaleK4(packed, j);
            if (dd == 0) continue;
            float dm = dminq * minK4(packed, j);
            for (int ii = 0; ii < 32; ++ii) {
                int l = nearestInt((x[xo + 32 * j + ii] + dm) / dd);
                L[32 * j + ii] = Math.max(0, Math.min(nmax, l));
            }
        }
    }

    static final TensorCodec Q4_K = new BlockCodec(GgmlType.Q4_K) {
        @Override
        void dequantizeBlock(MemorySegment s, long off, float[] y, int o) {
            float d = f16(s, off);
            float min = f16(s, off + 2);
            byte[] scales = bytes(s, off + 4, 12);
            byte[] q = bytes(s, off + 16, 128);
            int is = 0;
            int qo = 0;
            for (int j = 0; j < QK_K; j += 64) {
                float d1 = d * scaleK4(scales, is);
                float m1 = min * minK4(scales, is);
                float d2 = d * scaleK4(scales, is + 1);
                float m2 = min * minK4(scales, is + 1);
                for (int l = 0; l < 32; ++l) y[o++] = d1 * (q[qo + l] & 0xF) - m1;
                for (int l = 0; l < 32; ++l) y[o++] = d2 * ((q[qo + l] & 0xFF) >>> 4) - m2;
                qo += 32;
                is += 2;
            }
        }

        @Override
        void quantizeBlock(float[] x, int xo, MemorySegment s, long off) {
            int[] L = new int[QK_K];
            quantizeScaleMinK(x, xo, 15, -1.f, 0.1f, 20, s, off, L);
            byte[] q = new byte[128];
            int qo = 0;
            for (int j = 0; j < QK_K; j += 64) {
                for (int l = 0; l < 32; ++l) q[qo + l] = (byte) (L[j + l] | (L[j + l + 32] << 4));
                qo += 32;
            }
            write(s, off + 16, q);
        }
    };

    static final TensorCodec Q5_K = new BlockCodec(GgmlType.Q5_K) {
        @Override
        void dequantizeBlock(MemorySegment s, long off, float[] y, int o) {
            float d = f16(s, off);
            float min = f16(s, off + 2);
            byte[] scales = bytes(s, off + 4, 12);
            byte[] qh = bytes(s, off + 16, 32);
            byte[] ql = bytes(s, off + 48, 128);
            int is = 0;
            int qo = 0;
            int u1 = 1;
            int u2 = 2;
            for (int j = 0; j < QK_K; j += 64) {
                float d1 = d * scaleK4(scales, is);
                float m1 = min * minK4(scales, is);
                float d2 = d * scaleK4(scales, is + 1);
                float m2 = min * minK4(scales, is + 1);
                for (int l = 0; l < 32; ++l) y[o++] = d1 * ((ql[qo + l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - m1;
                for (int l = 0; l < 32; ++l) y[o++] = d2 * (((ql[qo + l] & 0xFF) >>> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - m2;
                qo += 32;
                is += 2;
                u1 <<= 2;
                u2 <<= 2;
            }
        }

        @Override
        void quantizeBlock(float[] x, int xo, MemorySegment s, long off) {
            int[] L = new int[QK_K];
            quantizeScaleMinK(x, xo, 31, -0.5f, 0.1f, 15, s, off, L);
            byte[] qh = new byte[32];
            byte[] ql = new byte[128];
            int m1 = 1;
            int m2 = 2;
            int qo = 0;
            for (int n = 0; n < QK_K; n += 64) {
                for (int j = 0; j < 32; ++j) {
                    int l1 = L[n + j];
                    if (l1 > 15) {
                        l1 -= 16;
                        qh[j] |= (byte) m1;
                    }
                    int l2 = L[n + j + 32];
                    if (l2 > 15) {
                        l2 -= 16;
                        qh[j] |= (byte) m2;
                    }
                    ql[qo + j] = (byte) (l1 | (l2 << 4));
                }
                m1 <<= 2;
                m2 <<= 2;
                qo += 32;
            }
            write(s, off + 16, qh);
            write(s, off + 48, ql);
        }
    };

    // ----------------------------------------------------------------------------------------- Q6_K

    static final TensorCodec Q6_K = new BlockCodec(GgmlType.Q6_K) {
        @Override
        void dequantizeBlock(MemorySegment s, long off, float[] y, int o) {
            byte[] ql = bytes(s, off, 128);
            byte[] qh = bytes(s, off + 128, 64);
            byte[] sc = bytes(s, off + 192, 16);
            float d = f16(s, off + 208);
            int qlo = 0;
            int qho = 0;
            int sco = 0;
            for (int n = 0; n < QK_K; n += 128) {
                for (int l = 0; l < 32; ++l) {
                    int is = l / 16;
                    int h = qh[qho + l] & 0xFF;
                    int q1 = ((ql[qlo + l] & 0xF) | ((h & 3) << 4)) - 32;
                    int q2 = ((ql[qlo + l + 32] & 0xF) | (((h >>> 2) & 3) << 4)) - 32;
                    int q3 = (((ql[qlo + l] & 0xFF) >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                    int q4 = (((ql[qlo + l + 32] & 0xFF) >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                    y[o + l] = d * sc[sco + is] * q1;
                    y[o + l + 32] = d * sc[sco + is + 2] * q2;
                    y[o + l + 64] = d * sc[sco + is + 4] * q3;
                    y[o + l + 96] = d * sc[sco + is + 6] * q4;
                }
                o += 128;
                qlo += 64;
                qho += 32;
                sco += 8;
            }
        }

        @Override
        void quantizeBlock(float[] x, int xo, MemorySegment s, long off) {
            int[] L = new int[QK_K];
            float[] scales = new float[QK_K / 16];
            float maxScale = 0;
            float maxAbsScale = 0;
            for (int ib = 0; ib < QK_K / 16; ++ib) {
                float scale = makeQxQuants(16, 32, x, xo + 16 * ib, L, 16 * ib);
                scales[ib] = scale;
                float abs = Math.abs(scale);
                if (abs > maxAbsScale) {
                    maxAbsScale = abs;
                    maxScale = scale;
                }
            }
            if (maxAbsScale < KQuantMath.GROUP_MAX_EPS) {
                write(s, off, new byte[GgmlType.Q6_K.blockBytes()]);
                return;
            }
            float iscale = -128.f / maxScale;
            float d = 1 / iscale;
            byte[] sc = new byte[16];
            for (int ib = 0; ib < 16; ++ib) sc[ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
            float dq = roundTripF16(d);
            for (int j = 0; j < 16; ++j) {
                float dd = dq * sc[j];
                if (dd == 0) continue;
                for (int ii = 0; ii < 16; ++ii) {
                    int l = nearestInt(x[xo + 16 * j + ii] / dd);
                    L[16 * j + ii] = Math.max(-32, Math.min(31, l)) + 32;
                }
            }
            byte[] ql = new byte[128];
            byte[] qh = new byte[64];
            int qlo = 0;
            int qho = 0;
            for (int j = 0; j < QK_K; j += 128) {
                for (int l = 0; l < 32; ++l) {
                    int q1 = L[j + l] & 0xF;
                    int q2 = L[j + l + 32] & 0xF;
                    int q3 = L[j + l + 64] & 0xF;
                    int q4 = L[j + l + 96] & 0xF;
                    ql[qlo + l] = (byte) (q1 | (q3 << 4));
                    ql[qlo + l + 32] = (byte) (q2 | (q4 << 4));
                    qh[qho + l] = (byte) ((L[j + l] >>> 4) | ((L[j + l + 32] >>> 4) << 2)
                            | ((L[j + l + 64] >>> 4) << 4) | ((L[j + l + 96] >>> 4) << 6));
                }
                qlo += 64;
                qho += 32;
            }
            write(s, off, ql);
            write(s, off + 128, qh);
            write(s, off + 192, sc);
            putF16(s, off + 208, d);
        }
    };

    // ----------------------------------------------------------------------------------------- Q8_K

    static final TensorCodec Q8_K = new BlockCodec(GgmlType.Q8_K) {
        @Override
        void dequantizeBlock(MemorySegment s, long off, float[] y, int o) {
            float d = s.get(LE_FLOAT, off);
            for (int j = 0; j < QK_K; ++j) y[o + j] = d * Bits.s8(s, off + 4 + j);
        }

        @Override
        void quantizeBlock(float[] x, int xo, MemorySegment s, long off) {
            float max = 0;
            float amax = 0;
            for (int j = 0; j < QK_K; ++j) {
                float ax = Math.abs(x[xo + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[xo + j];
                }
            }
            if (amax == 0) {
                write(s, off, new byte[GgmlType.Q8_K.blockBytes()]);
                return;
            }
            float iscale = -127.f / max;
            byte[] qs = new byte[QK_K];
            for (int j = 0; j < QK_K; ++j) qs[j] = (byte) Math.min(127, nearestInt(iscale * x[xo + j]));
            write(s, off + 4, qs);
            for (int j = 0; j < QK_K / 16; ++j) {
                int sum = 0;
                for (int ii = 0; ii < 16; ++ii) sum += qs[j * 16 + ii];
                s.set(LE_SHORT, off + 4 + QK_K + 2L * j, (short) sum);
            }
            s.set(LE_FLOAT, off, 1 / iscale);
        }
    };
}
