package dev.freehold.core.format.gguf;

import dev.freehold.core.tensor.GgmlType;
import java.util.Arrays;

/**
 * A tensor's entry in a GGUF file.
 *
 * @param name   the tensor's name, e.g. {@code blk.0.attn_q.weight}
 * @param type   its element type
 * @param shape  GGML order: {@code shape[0]} is the row length (the fastest-varying dimension)
 * @param offset byte offset of its data from the start of the file's data section
 */
public record GgufTensorInfo(String name, GgmlType type, long[] shape, long offset) {

    public GgufTensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int dims() {
        return shape.length;
    }

    public long dim(int i) {
        return i < shape.length ? shape[i] : 1;
    }

    public long elements() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public long byteSize() {
        return type.bytesFor(elements());
    }

    /** Number of rows: all elements over the row length. */
    public long rows() {
        return elements() / shape[0];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && type == t.type
                && Arrays.equals(shape, t.shape) && offset == t.offset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape);
    }
}
