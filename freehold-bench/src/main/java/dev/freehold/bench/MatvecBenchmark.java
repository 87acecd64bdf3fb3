package dev.freehold.bench;

import dev.freehold.core.kernel.Matrix;
import dev.freehold.core.kernel.WorkerPool;
import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One matrix-vector product (the decode step's kernel) over an 8192 x 8192 weight matrix, larger than the L3 cache
 * as a model's weights are, per weight type and thread count. Bytes per operation / time = the weight stream's
 * bandwidth; compare it with the machine's (PERFORMANCE.md) to see whether a kernel is compute- or memory-bound.
 *
 * <p>Run: {@code java -jar freehold-bench/target/benchmarks.jar MatvecBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class MatvecBenchmark {
    static final int ROWS = 8192;
    static final int COLS = 8192;

    @Param({"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "F16", "BF16"})
    public String type;

    @Param({"1", "2"})
    public int threads;

    /** "vector" (the kernel Freehold runs) or "reference" (decode with the scalar codec, then a float dot product). */
    @Param({"vector"})
    public String kernel;

    private Arena arena;
    private Matrix matrix;
    private WorkerPool pool;
    private float[] x;
    private float[] out;
    private float[][] xs;
    private float[][] outs;

    @Setup(Level.Trial)
    public void setUp() {
        GgmlType t = GgmlType.valueOf(type);
        arena = Arena.ofShared();
        MemorySegment data = randomWeights(arena, t, ROWS, COLS);
        matrix = kernel.equals("reference") ? Matrix.reference(t, data, ROWS, COLS) : Matrix.of(t, data, ROWS, COLS);
        pool = new WorkerPool(threads);
        x = new float[COLS];
        Random xr = new Random(7);
        for (int c = 0; c < COLS; c++) x[c] = (float) xr.nextGaussian();
        out = new float[ROWS];
        xs = new float[4][COLS];
        for (float[] v : xs) for (int c = 0; c < COLS; c++) v[c] = (float) xr.nextGaussian();
        outs = new float[4][ROWS];
    }

    /** A rows x cols matrix of the type, weights Gaussian with deviation 0.02 (seed 42), in memory of the arena. */
    static MemorySegment randomWeights(Arena arena, GgmlType t, int rows, int cols) {
        long rowBytes = t.bytesFor(cols);
        MemorySegment data = arena.allocate(rowBytes * rows, 64);
        SplittableRandom random = new SplittableRandom(42);
        float[] row = new float[cols];
        var codec = t.codec().orElseThrow();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) row[c] = (float) (random.nextGaussian() * 0.02);
            codec.quantize(row, 0, data, r * rowBytes, cols);
        }
        return data;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float[] matvec() {
        matrix.matvec(x, out, pool);
        return out;
    }

    /** Four vectors through one pass over the weights: a decode step of four sequences batched by the server. */
    @Benchmark
    public float[][] matmul4() {
        matrix.matmul(xs, outs, 4, pool);
        return outs;
    }
}
