package dev.freehold.core.format.convert;

import dev.freehold.core.tensor.GgmlType;
import java.util.function.LongUnaryOperator;

/**
 * Presents another tensor with its rows reordered: row {@code r} of this tensor is row
 * {@code sourceRowOf(r)} of the underlying one. Used for the Q/K head permutation that llama.cpp's
 * Hugging Face converter applies to Llama-family attention weights.
 */
public record RowPermutedSource(TensorSource source, LongUnaryOperator sourceRowOf) implements TensorSource {

    @Override
    public String name() {
        return source.name();
    }

    @Override
    public long[] shape() {
        return source.shape();
    }

    @Override
    public GgmlType sourceType() {
        return source.sourceType();
    }

    @Override
    public void readRows(long firstRow, int count, float[] dst) {
        int rowLength = Math.toIntExact(source.rowLength());
        float[] row = new float[rowLength];
        for (int i = 0; i < count; i++) {
            source.readRows(sourceRowOf.applyAsLong(firstRow + i), 1, row);
            System.arraycopy(row, 0, dst, i * rowLength, rowLength);
        }
    }

    /**
     * llama.cpp's {@code permute(weights, n_head)}: within each head of {@code headDim} rows, the HF layout holds
     * the first halves of all rotary pairs then the second halves; GGUF interleaves them.
     */
    public static RowPermutedSource ropeInterleave(TensorSource source, int heads) {
        long rows = source.rows();
        if (rows % heads != 0 || (rows / heads) % 2 != 0) {
            throw new IllegalArgumentException("tensor %s: %d rows do not split into %d heads of even size".formatted(source.name(), rows, heads));
        }
        long headDim = rows / heads;
        long half = headDim / 2;
        return new RowPermutedSource(source, r -> {
            long h = r / headDim;
            long rem = r % headDim;
            return h * headDim + (rem % 2) * half + rem / 2;
        });
    }
}
