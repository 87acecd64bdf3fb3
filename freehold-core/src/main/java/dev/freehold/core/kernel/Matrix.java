package dev.freehold.core.kernel;

import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.tensor.TensorCodec;
import java.lang.foreign.MemorySegment;

/**
 * A weight matrix in a memory-mapped file: {@code rows} rows of {@code cols} values of one {@link GgmlType}, row
 * after row. The hot operation is the dot product of a row with an activation vector; each weight type supplies a
 * fused (decode-and-multiply) kernel, and every type has the reference path of this class: decode the row with
 * the bit-exact codec, then multiply. Kernels are held to the reference by tests.
 */
public class Matrix {
    final GgmlType type;
    final MemorySegment data;
    final int rows;
    final int cols;
    final long rowBytes;
    private final TensorCodec codec;
    private final ThreadLocal<float[]> rowBuffer;

    Matrix(GgmlType type, MemorySegment data, int rows, int cols) {
        this.type = type;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = type.bytesFor(cols);
        if (data.byteSize() != rowBytes * rows) {
            throw new IllegalArgumentException("%d bytes for a %dx%d %s matrix".formatted(data.byteSize(), rows, cols, type));
        }
        this.codec = type.codec().orElseThrow(() -> new IllegalArgumentException("tensor type " + type + " cannot be run yet"));
        this.rowBuffer = ThreadLocal.withInitial(() -> new float[cols]);
    }

    /** The fastest kernel for the type, or the reference path. */
    public static Matrix of(GgmlType type, MemorySegment data, int rows, int cols) {
        return switch (type) {
            case F32 -> new F32Matrix(data, rows, cols);
            case F16 -> new F16Matrix(data, rows, cols);
            case BF16 -> new BF16Matrix(data, rows, cols);
            case Q2_K -> new Q2KMatrix(data, rows, cols);
            case Q3_K -> new Q3KMatrix(data, rows, cols);
            case Q4_K -> new Q4KMatrix(data, rows, cols);
            case Q5_K -> new Q5KMatrix(data, rows, cols);
            case Q6_K -> new Q6KMatrix(data, rows, cols);
            case Q8_0 -> new Q8Matrix(data, rows, cols);
            case Q4_0 -> new Q4Matrix(data, rows, cols);
            case Q4_1 -> new Q41Matrix(data, rows, cols);
            case Q5_0 -> new Q50Matrix(data, rows, cols);
            case Q5_1 -> new Q51Matrix(data, rows, cols);
            default -> new Matrix(type, data, rows, cols);
        };
    }

    /** The reference implementation for any type (used by tests to hold the kernels to it). */
    public static Matrix reference(GgmlType type, MemorySegment data, int rows, int cols) {
        return new Matrix(type, data, rows, cols);
    }

    public GgmlType type() {
        return type;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Dot product of row {@code row} with {@code x[0..cols)}. */
    public float dot(int row, float[] x) {
        float[] w = rowBuffer.get();
        codec.dequantize(data, row * rowBytes, w, 0, cols);
        return Dot.dot(w, x, cols);
    }

    /** Decodes row {@code row} into {@code out} (an embedding lookup). */
    public void row(int row, float[] out) {
        codec.dequantize(data, row * rowBytes, out, 0, cols);
    }

    /**
     * outs[t][r] = row r · xs[t] for the first {@code n} vectors: each row is decoded once and multiplied with every
     * vector, which is what makes prompt processing faster than one token at a time.
     */
    public void matmul(float[][] xs, float[][] outs, int n, WorkerPool pool) {
        pool.parallelFor(rows, (from, to) -> {
            float[] w = rowBuffer.get();
            for (int r = from; r < to; r++) {
                codec.dequantize(data, r * rowBytes, w, 0, cols);
                for (int t = 0; t < n; t++) outs[t][r] = Dot.dot(w, xs[t], cols);
            }
        });
    }

    /**
     * outs[t][r] = row r · xs[t] for tokens of a prompt (given text, as opposed to tokens decoded one at a time):
     * rows decoded once per call into a panel and multiplied with every token in register tiles (see
     * {@link PromptProduct}). Each token's result depends only on that token, not on n or its neighbours; it differs
     * from {@link #matmul}'s only by float rounding order.
     */
    public void matmulPrompt(float[][] xs, float[][] outs, int n, WorkerPool pool) {
        if (!PromptProduct.SUPPORTED) {
            matmul(xs, outs, n, pool);
            return;
        }
        PromptProduct.run(this, promptActivations(xs, n), outs, n, pool);
    }

    /**
     * The activations as this type's decode kernel sees them (quantised types round them to 8-bit blocks first);
     * the same arrays when it uses them as they are.
     */
    float[][] promptActivations(float[][] xs, int n) {
        return xs;
    }

    private final ThreadLocal<float[][]> promptBuffers = ThreadLocal.withInitial(() -> new float[0][]);

    /** n buffers of cols floats, reused by this thread. */
    final float[][] promptBuffers(int n) {
        float[][] b = promptBuffers.get();
        if (b.length < n) {
            b = new float[Math.max(n, 2 * b.length)][cols];
            promptBuffers.set(b);
        }
        return b;
    }

    /** Row {@code row} as floats into {@code dst[off..off+cols)}. */
    void decodeRow(int row, float[] dst, int off) {
        codec.dequantize(data, row * rowBytes, dst, off, cols);
    }

    /** out[r] = row r · x for every row, split over the pool. */
    public void matvec(float[] x, float[] out, WorkerPool pool) {
        pool.parallelFor(rows, (from, to) -> {
            for (int r = from; r < to; r++) out[r] = dot(r, x);
        });
    }
}
