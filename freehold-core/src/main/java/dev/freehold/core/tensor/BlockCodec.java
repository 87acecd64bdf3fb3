package dev.freehold.core.tensor;

import java.lang.foreign.MemorySegment;

/** A codec that works one block at a time; the loop over blocks lives here. */
abstract class BlockCodec implements TensorCodec {
    private final GgmlType type;

    BlockCodec(GgmlType type) {
        this.type = type;
    }

    @Override
    public final GgmlType type() {
        return type;
    }

    abstract void dequantizeBlock(MemorySegment src, long off, float[] dst, int dstOffset);

    abstract void quantizeBlock(float[] src, int srcOffset, MemorySegment dst, long off);

    @Override
    public final void dequantize(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int n) {
        int bs = type.blockSize();
        checkMultiple(n);
        long off = srcOffset;
        for (int i = 0; i < n; i += bs) {
            dequantizeBlock(src, off, dst, dstOffset + i);
            off += type.blockBytes();
        }
    }

    @Override
    public final void quantize(float[] src, int srcOffset, MemorySegment dst, long dstOffset, int n) {
        int bs = type.blockSize();
        checkMultiple(n);
        long off = dstOffset;
        for (int i = 0; i < n; i += bs) {
            quantizeBlock(src, srcOffset + i, dst, off);
            off += type.blockBytes();
        }
    }

    private void checkMultiple(int n) {
        if (n % type.blockSize() != 0) {
            throw new IllegalArgumentException(
                    "%d values is not a multiple of %s's block size %d".formatted(n, type, type.blockSize()));
        }
    }
}
