package dev.freehold.core.infer;

/**
 * One sequence's state in the engine: its KV cache and how many positions it holds. Created by
 * {@link Engine#newSequence}; not thread-safe (one forward at a time per sequence).
 */
public final class Sequence {
    final float[][] keys;   // [layer][position * kvDim + i]
    final float[][] values; // [layer][position * kvDim + i]
    final int capacity;
    int length;

    Sequence(int layers, int capacity, int kvDim) {
        this.capacity = capacity;
        this.keys = new float[layers][(int) Math.min(Integer.MAX_VALUE - 8, (long) capacity * kvDim)];
        this.values = new float[layers][(int) Math.min(Integer.MAX_VALUE - 8, (long) capacity * kvDim)];
    }

    /** Positions filled so far (the next token goes at this position). */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /** Forgets everything after the first {@code n} positions (e.g. to reuse a common prompt prefix). */
    public void truncate(int n) {
        if (n < 0 || n > length) throw new IllegalArgumentException("cannot truncate a sequence of %d positions to %d".formatted(length, n));
        length = n;
    }
}
