package dev.freehold.core.tensor;

import static dev.freehold.core.tensor.Bits.LE_INT;
import static dev.freehold.core.tensor.Bits.f16;
import static dev.freehold.core.tensor.Bits.put8;
import static dev.freehold.core.tensor.Bits.putF16;
import static dev.freehold.core.tensor.Bits.s8;
import static dev.freehold.core.tensor.Bits.u8;

import java.lang.foreign.MemorySegment;

/**
 * The 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
 *
 * <p>Layouts (little-endian): Q4_0 {f16 d; u8 qs[16]}, Q4_1 {f16 d, m; u8 qs[16]},
 * Q5_0 {f16 d; u32 qh; u8 qs[16]}, Q5_1 {f16 d, m; u32 qh; u8 qs[16]}, Q8_0 {f16 d; i8 qs[32]}.
 * The low nibble of qs[j] is element j, the high nibble element j+16; for the 5-bit types bit j of qh
 * is the fifth bit of element j. The quantisers follow ggml's reference ones step for step, rounding included.
 */
final class LegacyQuants {
    private LegacyQuants() {
    }

    private static final int QK = 32;

    /** The value of largest magnitude, with its sign (first one wins on ties), as ggml picks it. */
    private static float signedAbsMax(float[] x, int o) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < QK; j++) {
            float v = x[o + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    static final TensorCodec Q4_0 = new BlockCodec(GgmlType.Q4_0) {
        @Override
        void dequantizeBlock(MemorySegment s, long off, float[] y, int o) {
            float d = f16(s, off);
            for (int j = 0; j < QK / 2; j++) {
                int q = u8(s, off + 2 + j);
                y[o + j] = ((q & 0x0F) - 8) * d;
                y[o + j + QK / 2] = ((q >>> 4) - 8) * d;
            }
        }

        @Override
        void quantizeBlock(float[] x, int o, MemorySegment s, long off) {
            float d = signedAbsMax(x, o) / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(s, off, d);
            for (int j = 0; j < QK / 2; j++) {
                int xi0 = Math.min(15, Bits.toInt8(x[o + j] * id + 8.5f));
                int xi1 = Math.min(15, Bits.toInt8(x[o + QK / 2 + j] * id + 8.5f));
                put8(s, off + 2 + j, xi0 | (xi1 << 4));
            }
        }
    };

    static final TensorCodec Q4_1 = new BlockCodec(GgmlType.Q4_1) {
        @Override
        void dequantizeBlock(MemorySegment s, long off, float[] y, int o) {
            float d = f16(s, off);
            float m = f16(s, off + 2);
            for (int j = 0; j < QK / 2; j++) {
                int q = u8(s, off + 4 + j);
                y[o + j] = (q & 0x0F) * d + m;
                y[o + j + QK / 2] = (q >>> 4) * d + m;
            }
        }

        @Override
        void quantizeBlock(float[] x, int o, MemorySegment s, long off) {
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < QK; j++) {
                float v = x[o + j];
                if (v < min) min = v;
                if (v > max) max = v;
            }
            float d = (max - min) / 15;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(s, off, d);
            putF16(s, off + 2, min);
            for (int j = 0; j < QK / 2; j++) {
                int xi0 = Math.min(15, Bits.toInt8((x[o + j] - min) * id + 0.5f));
                int xi1 = Math.min(15, Bits.toInt8((x[o + QK / 2 + j] - min) * id + 0.5f));
                put8(s, off + 4 + j, xi0 | (xi1 << 4));
            }
        }
    };

    static final TensorCodec Q5_0 = new BlockCodec(GgmlType.Q5_0) {
        @Override
        void dequantizeBlock(MemorySegment s, long off, float[] y, int o) {
            float d = f16(s, off);
            int qh = s.get(LE_INT, off + 2);
            for (int j = 0; j < QK / 2; j++) {
                int q = u8(s, off + 6 + j);
                int xh0 = ((qh >>> j) << 4) & 0x10;
                int xh1 = (qh >>> (j + 12)) & 0x10;
                y[o + j] = (((q & 0x0F) | xh0) - 16) * d;
                y[o + j + QK / 2] = (((q >>> 4) | xh1) - 16) * d;
            }
        }

        @Override
        void quantizeBlock(float[] x, int o, MemorySegment s, long off) {
            float d = signedAbsMax(x, o) / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(s, off, d);
            int qh = 0;
            for (int j = 0; j < QK / 2; j++) {
                int xi0 = Math.min(31, Bits.toInt8(x[o + j] * id + 16.5f)) & 0xFF;
                int xi1 = Math.min(31, Bits.toInt8(x[o + QK / 2 + j] * id + 16.5f)) & 0xFF;
                put8(s, off + 6 + j, (xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= ((xi0 & 0x10) >>> 4) << j;
                qh |= ((xi1 & 0x10) >>> 4) << (j + QK / 2);
            }
            s.set(LE_INT, off + 2, qh);
        }
    };

    static final TensorCodec Q5_1 = new BlockCodec(GgmlType.Q5_1) {
        @Override
        void dequantizeBlock(MemorySegment s, long off, float[] y, int o) {
            float d = f16(s, off);
            float m = f16(s, off + 2);
            int qh = s.get(LE_INT, off + 4);
            for (int j = 0; j < QK / 2; j++) {
                int q = u8(s, off + 8 + j);
                int xh0 = ((qh >>> j) << 4) & 0x10;
                int xh1 = (qh >>> (j + 12)) & 0x10;
                y[o + j] = ((q & 0x0F) | xh0) * d + m;
                y[o + j + QK / 2] = ((q >>> 4) | xh1) * d + m;
            }
        }

        @Override
        void quantizeBlock(float[] x, int o, MemorySegment s, long off) {
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < QK; j++) {
                float v = x[o + j];
                if (v < min) min = v;
                if (v > max) max = v;
            }
            float d = (max - min) / 31;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(s, off, d);
            putF16(s, off + 2, min);
            int qh = 0;
            for (int j = 0; j < QK / 2; j++) {
                int xi0 = Bits.toUint8((x[o + j] - min) * id + 0.5f);
                int xi1 = Bits.toUint8((x[o + QK / 2 + j] - min) * id + 0.5f);
                put8(s, off + 8 + j, (xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= ((xi0 & 0x10) >>> 4) << j;
                qh |= ((xi1 & 0x10) >>> 4) << (j + QK / 2);
            }
            s.set(LE_INT, off + 4, qh);
        }
    };

    static final TensorCodec Q8_0 = new BlockCodec(GgmlType.Q8_0) {
        @Override
        void dequantizeBlock(MemorySegment s, long off, float[] y, int o) {
            float d = f16(s, off);
            for (int j = 0; j < QK; j++) {
                y[o + j] = s8(s, off + 2 + j) * d;
            }
        }

        @Override
        void quantizeBlock(float[] x, int o, MemorySegment s, long off) {
            float amax = 0;
            for (int j = 0; j < QK; j++) {
                amax = Math.max(amax, Math.abs(x[o + j]));
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(s, off, d);
            for (int j = 0; j < QK; j++) {
                put8(s, off + 2 + j, (int) Bits.roundf(x[o + j] * id));
            }
        }
    };
}
