package dev.freehold.core.tensor;

import static dev.freehold.core.tensor.Bits.LE_FLOAT;
import static dev.freehold.core.tensor.Bits.LE_SHORT;

import java.lang.foreign.MemorySegment;

/** F32, F16 and BF16: one value per "block". */
final class FloatCodecs {
    private FloatCodecs() {
    }

    static final TensorCodec F32 = new BlockCodec(GgmlType.F32) {
        @Override
        void dequantizeBlock(MemorySegment src, long off, float[] dst, int o) {
            dst[o] = src.get(LE_FLOAT, off);
        }

        @Override
        void quantizeBlock(float[] src, int o, MemorySegment dst, long off) {
            dst.set(LE_FLOAT, off, src[o]);
        }
    };

    static final TensorCodec F16 = new BlockCodec(GgmlType.F16) {
        @Override
        void dequantizeBlock(MemorySegment src, long off, float[] dst, int o) {
            dst[o] = Float.float16ToFloat(src.get(LE_SHORT, off));
        }

        @Override
        void quantizeBlock(float[] src, int o, MemorySegment dst, long off) {
            dst.set(LE_SHORT, off, Float.floatToFloat16(src[o]));
        }
    };

    static final TensorCodec BF16 = new BlockCodec(GgmlType.BF16) {
        @Override
        void dequantizeBlock(MemorySegment src, long off, float[] dst, int o) {
            dst[o] = Bits.bf16ToFloat(src.get(LE_SHORT, off));
        }

        @Override
        void quantizeBlock(float[] src, int o, MemorySegment dst, long off) {
            dst.set(LE_SHORT, off, Bits.floatToBf16(src[o]));
        }
    };
}
