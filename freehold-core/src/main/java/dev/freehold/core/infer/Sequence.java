package dev.freehold.core.infer;

import dev.freehold.core.kernel.AttentionKernel;
import java.util.Arrays;

/**
 * One sequence's state in the engine: its KV cache, how many positions it holds and which token sits at each
 * (so callers reusing a cached prefix compare against what the cache really holds, also after a shift). Created by
 * {@link Engine#newSequence}; not thread-safe (one forward at a time per sequence).
 */
public final class Sequence {
    final float[][] keys;   // [layer][AttentionKernel.keyIndex(position, i, kvDim)]: tiles of 16 positions
    final float[][] values; // [layer][position * kvDim + i]
    final int[] tokens;     // [position]
    final int capacity;
    int length;

    Sequence(int layers, int capacity, int kvDim) {
        this.capacity = capacity;
        this.tokens = new int[capacity];
        this.keys = new float[layers][(int) Math.min(Integer.MAX_VALUE - 8, AttentionKernel.keyCacheSize(capacity, kvDim))];
        this.values = new float[layers][(int) Math.min(Integer.MAX_VALUE - 8, (long) capacity * kvDim)];
    }

    /** Positions filled so far (the next token goes at this position). */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /** The tokens whose keys and values the cache holds, position by position. */
    public int[] tokens() {
        return Arrays.copyOf(tokens, length);
    }

    /** Records that {@code n} tokens from {@code ids[from]} now fill the next positions (the engine has cached them). */
    void append(int[] ids, int from, int n) {
        System.arraycopy(ids, from, tokens, length, n);
        length += n;
    }

    /** Forgets everything after the first {@code n} positions (e.g. to reuse a common prompt prefix). */
    public void truncate(int n) {
        if (n < 0 || n > length) throw new IllegalArgumentException("cannot truncate a sequence of %d positions to %d".formatted(length, n));
        length = n;
    }
}
