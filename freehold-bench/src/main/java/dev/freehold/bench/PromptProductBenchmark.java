package dev.freehold.bench;

import dev.freehold.core.kernel.Matrix;
import dev.freehold.core.kernel.WorkerPool;
import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.util.Random;
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
 * The prompt-processing product: a 2048-wide weight matrix (a Llama-3.2-1B projection; 8192 rows like its FFN)
 * times a chunk of token vectors, through {@code matmulPrompt} (rows decoded once, register tiles) and, for
 * comparison, {@code matmul} (the decode kernels, four vectors per weight load). GFLOP/s = 2 * rows * cols * tokens
 * / time.
 *
 * <p>Run: {@code java -jar freehold-bench/target/benchmarks.jar PromptProductBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class PromptProductBenchmark {
    @Param({"8192"})
    public int rows;

    @Param({"2048"})
    public int cols;

    @Param({"Q8_0", "Q4_0", "Q4_K", "F16"})
    public String type;

    @Param({"32"})
    public int tokens;

    @Param({"2"})
    public int threads;

    /** "prompt" (matmulPrompt) or "decode" (matmul). */
    @Param({"prompt", "decode"})
    public String path;

    private Arena arena;
    private Matrix matrix;
    private WorkerPool pool;
    private float[][] xs;
    private float[][] outs;

    @Setup(Level.Trial)
    public void setUp() {
        GgmlType t = GgmlType.valueOf(type);
        arena = Arena.ofShared();
        matrix = Matrix.of(t, MatvecBenchmark.randomWeights(arena, t, rows, cols), rows, cols);
        pool = new WorkerPool(threads);
        Random xr = new Random(7);
        xs = new float[tokens][cols];
        for (float[] x : xs) for (int c = 0; c < cols; c++) x[c] = (float) xr.nextGaussian();
        outs = new float[tokens][rows];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float[][] product() {
        if (path.equals("prompt")) matrix.matmulPrompt(xs, outs, tokens, pool);
        else matrix.matmul(xs, outs, tokens, pool);
        return outs;
    }
}
