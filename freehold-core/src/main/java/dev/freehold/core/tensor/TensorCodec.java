package dev.freehold.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Converts between float and one {@link GgmlType}'s byte layout, block by block.
 *
 * <p>These are the scalar reference conversions, bit-exact to ggml's {@code dequantize_row_*} and
 * {@code quantize_row_*_ref}. They serve conversion, quantisation and tests; the inference kernels
 * fuse dequantisation into their dot products instead.
 */
public interface TensorCodec {

    GgmlType type();

    /** Writes {@code n} floats (a multiple of the block size) decoded from {@code src} at {@code srcOffset} into {@code dst}. */
    void dequantize(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int n);

    /** Whether {@link #quantize} is implemented for this type. */
    default boolean canQuantize() {
        return true;
    }

    /** Encodes {@code n} floats (a multiple of the block size) into {@code dst} at {@code dstOffset}. */
    void quantize(float[] src, int srcOffset, MemorySegment dst, long dstOffset, int n);

    /** Convenience: quantise a whole array to a new byte array. */
    default byte[] quantize(float[] src) {
        byte[] out = new byte[Math.toIntExact(type().bytesFor(src.length))];
        quantize(src, 0, MemorySegment.ofArray(out), 0, src.length);
        return out;
    }

    /** Convenience: dequantise a whole byte array holding {@code n} values. */
    default float[] dequantize(byte[] src, int n) {
        float[] out = new float[n];
        dequantize(MemorySegment.ofArray(src), 0, out, 0, n);
        return out;
    }
}
