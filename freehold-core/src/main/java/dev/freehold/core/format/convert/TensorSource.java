package dev.freehold.core.format.convert;

import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * A tensor to be written into a GGUF file, read row by row so that no whole model needs to fit in memory.
 * Importers (llama2.c, Hugging Face safetensors) and the quantiser (GGUF to GGUF) each supply these.
 */
public interface TensorSource {
    /** The GGUF tensor name, e.g. {@code blk.3.ffn_up.weight}. */
    String name();

    /** GGML order: {@code shape()[0]} is the row length. */
    long[] shape();

    /** The element type of the data as stored in the source. */
    GgmlType sourceType();

    /** Reads {@code count} rows starting at {@code firstRow} as floats into {@code dst} (count * rowLength values). */
    void readRows(long firstRow, int count, float[] dst);

    /**
     * The stored bytes, in GGUF layout, when they can be copied unchanged (same type, no reordering):
     * this lets conversion keep exact bits and skip a decode/encode round trip.
     */
    default Optional<MemorySegment> rawBytes() {
        return Optional.empty();
    }

    default long rowLength() {
        return shape()[0];
    }

    default long rows() {
        long[] s = shape();
        long n = 1;
        for (int i = 1; i < s.length; i++) n = Math.multiplyExact(n, s[i]);
        return n;
    }
}
