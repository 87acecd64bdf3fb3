package dev.freehold.core.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.freehold.core.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every fast kernel against the reference path (decode with the bit-exact codec, then multiply). */
class KernelTest {
    static final int ROWS = 24;
    static final int COLS = 512;

    static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void fastDotEqualsReferenceWithinRounding(GgmlType type) {
        byte[] w = type.codec().orElseThrow().quantize(gaussian(ROWS * COLS, 1));
        MemorySegment seg = MemorySegment.ofArray(w);
        Matrix fast = Matrix.of(type, seg, ROWS, COLS);
        Matrix ref = Matrix.reference(type, seg, ROWS, COLS);
        float[] x = gaussian(COLS, 2);
        for (int r = 0; r < ROWS; r++) {
            float expected = ref.dot(r, x);
            assertThat(fast.dot(r, x)).as("%s row %d", type, r).isCloseTo(expected, within(1e-3f * Math.max(1f, Math.abs(expected))));
        }
    }

    /** Rows of 11 blocks: the two-block kernels finish each row with one block in scalar code. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void integerDotWithAnOddNumberOfBlocksPerRowVectorEqualsScalar(GgmlType type) {
        int cols = 11 * 32;
        byte[] w = type.codec().orElseThrow().quantize(gaussian(ROWS * cols, 13));
        Matrix m = Matrix.of(type, MemorySegment.ofArray(w), ROWS, cols);
        float[] x = gaussian(cols, 14);
        Q8Activations a = new Q8Activations(cols);
        a.quantize(x, cols);
        float[] out = new float[ROWS];
        try (WorkerPool pool = new WorkerPool(2)) {
            m.matvec(x, out, pool);
        }
        for (int r = 0; r < ROWS; r++) {
            float scalar = ((Block32Matrix) m).dotQ8Scalar(r, a);
            assertThat(out[r]).as("%s row %d", type, r).isCloseTo(scalar, within(1e-4f * Math.max(1f, Math.abs(scalar))));
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void integerDotWithQuantisedActivationsVectorEqualsScalar(GgmlType type) {
        byte[] w = type.codec().orElseThrow().quantize(gaussian(ROWS * COLS, 3));
        MemorySegment seg = MemorySegment.ofArray(w);
        Matrix m = Matrix.of(type, seg, ROWS, COLS);
        float[] x = gaussian(COLS, 4);
        Q8Activations a = new Q8Activations(COLS);
        a.quantize(x, COLS);
        float[] out = new float[ROWS];
        try (WorkerPool pool = new WorkerPool(2)) {
            m.matvec(x, out, pool);
        }
        for (int r = 0; r < ROWS; r++) {
            float scalar = ((Block32Matrix) m).dotQ8Scalar(r, a);
            assertThat(out[r]).as("%s row %d", type, r).isCloseTo(scalar, within(1e-4f * Math.max(1f, Math.abs(scalar))));
            // and close to the float product: activation quantisation costs under 1% here
            float exact = Matrix.reference(type, seg, ROWS, COLS).dot(r, x);
            assertThat(out[r]).isCloseTo(exact, within(0.02f * (float) Math.sqrt(COLS)));
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void kQuantIntegerDotEqualsReferenceWeightsTimesQ8KActivations(GgmlType type) {
        org.junit.jupiter.api.Assumptions.assumeTrue(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() >= 16,
                "the K-quant integer kernels need AVX-512");
        int cols = 1024;
        byte[] w = type.codec().orElseThrow().quantize(gaussian(ROWS * cols, 13));
        MemorySegment seg = MemorySegment.ofArray(w);
        Matrix m = Matrix.of(type, seg, ROWS, cols);
        float[] x = gaussian(cols, 14);
        x[5] = 40f; // an outlier, as real activations have
        // the activations as the kernel sees them: Q8_K-quantised, then decoded by the reference codec
        var q8k = GgmlType.Q8_K.codec().orElseThrow();
        float[] xq = q8k.dequantize(q8k.quantize(x), cols);
        float[] out = new float[ROWS];
        try (WorkerPool pool = new WorkerPool(2)) {
            m.matvec(x, out, pool);
        }
        float[] row = new float[cols];
        for (int r = 0; r < ROWS; r++) {
            Matrix.reference(type, seg, ROWS, cols).row(r, row);
            double expected = 0;
            double magnitude = 0;
            for (int c = 0; c < cols; c++) {
                expected += (double) row[c] * xq[c];
                magnitude += Math.abs((double) row[c] * xq[c]);
            }
            assertThat((double) out[r]).as("%s row %d", type, r).isCloseTo(expected, within(1e-5 * magnitude));
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void integerDotHandlesAnOddNumberOfBlocks(GgmlType type) {
        int cols = 96; // three blocks: the vector loop takes two, the scalar tail one
        byte[] w = type.codec().orElseThrow().quantize(gaussian(ROWS * cols, 8));
        Matrix m = Matrix.of(type, MemorySegment.ofArray(w), ROWS, cols);
        float[] x = gaussian(cols, 9);
        Q8Activations a = new Q8Activations(cols);
        a.quantize(x, cols);
        float[] out = new float[ROWS];
        float[][] batch = new float[3][ROWS];
        try (WorkerPool pool = new WorkerPool(1)) {
            m.matvec(x, out, pool);
            m.matmul(new float[][] {gaussian(cols, 10), x, gaussian(cols, 11)}, batch, 3, pool);
        }
        for (int r = 0; r < ROWS; r++) {
            float scalar = ((Block32Matrix) m).dotQ8Scalar(r, a);
            assertThat(out[r]).as("%s row %d", type, r).isCloseTo(scalar, within(1e-4f * Math.max(1f, Math.abs(scalar))));
            assertThat(Float.floatToRawIntBits(batch[1][r])).as("%s row %d in a batch", type, r).isEqualTo(Float.floatToRawIntBits(out[r]));
        }
    }

    @org.junit.jupiter.api.Test
    void vectorHalfToFloatIsExactForEveryBitPattern() {
        org.junit.jupiter.api.Assumptions.assumeTrue(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() >= 16,
                "the F16 vector kernel needs 16-lane float vectors");
        byte[] all = new byte[65536 * 2];
        for (int h = 0; h < 65536; h++) {
            all[2 * h] = (byte) h;
            all[2 * h + 1] = (byte) (h >>> 8);
        }
        MemorySegment seg = MemorySegment.ofArray(all);
        for (int h = 0; h < 65536; h += 16) {
            float[] v = F16Matrix.load(seg, 2L * h).toArray();
            for (int j = 0; j < 16; j++) {
                float expected = Float.float16ToFloat((short) (h + j));
                assertThat(Float.floatToRawIntBits(v[j])).as("half 0x%04x", h + j)
                        .isEqualTo(Float.floatToRawIntBits(expected));
            }
        }
    }

    @org.junit.jupiter.api.Test
    void fastHalfToFloatIsExactForEveryFiniteBitPattern() {
        org.junit.jupiter.api.Assumptions.assumeTrue(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() >= 16,
                "the F16 vector kernel needs 16-lane float vectors");
        byte[] all = new byte[65536 * 2];
        for (int h = 0; h < 65536; h++) {
            all[2 * h] = (byte) h;
            all[2 * h + 1] = (byte) (h >>> 8);
        }
        MemorySegment seg = MemorySegment.ofArray(all);
        int checked = 0;
        for (int h = 0; h < 65536; h += 16) {
            float[] v = F16Matrix.loadFinite(seg, 2L * h).toArray();
            for (int j = 0; j < 16; j++) {
                if (((h + j) & 0x7C00) == 0x7C00) continue; // infinities and NaNs take the exact path
                float expected = Float.float16ToFloat((short) (h + j));
                assertThat(Float.floatToRawIntBits(v[j])).as("half 0x%04x", h + j)
                        .isEqualTo(Float.floatToRawIntBits(expected));
                checked++;
            }
        }
        assertThat(checked).isEqualTo(65536 - 2048);
    }

    @org.junit.jupiter.api.Test
    void bf16WidensEveryBitPatternExactly() {
        // every bf16 pattern as a weight, times a unit vector: the product is the widened value itself (rows holding
        // an infinity or NaN elsewhere give NaN on both paths, since inf * 0 is NaN)
        byte[] all = new byte[65536 * 2];
        for (int h = 0; h < 65536; h++) {
            all[2 * h] = (byte) h;
            all[2 * h + 1] = (byte) (h >>> 8);
        }
        int cols = 64;
        Matrix fast = Matrix.of(GgmlType.BF16, MemorySegment.ofArray(all), 65536 / cols, cols);
        Matrix ref = Matrix.reference(GgmlType.BF16, MemorySegment.ofArray(all), 65536 / cols, cols);
        for (int r = 0; r < 65536 / cols; r++) {
            for (int c = 0; c < cols; c++) {
                float[] unit = new float[cols];
                unit[c] = 1f;
                float expected = ref.dot(r, unit);
                float got = fast.dot(r, unit);
                assertThat(Float.floatToRawIntBits(got) == Float.floatToRawIntBits(expected) || (Float.isNaN(got) && Float.isNaN(expected)))
                        .as("bf16 0x%04x: %s vs %s", r * cols + c, got, expected).isTrue();
            }
        }
    }

    @org.junit.jupiter.api.Test
    void f16RowsWithInfinityOrNanGiveWhatTheReferenceGives() {
        float[] w = gaussian(ROWS * COLS, 11);
        w[3 * COLS + 100] = Float.POSITIVE_INFINITY;
        w[5 * COLS + 7] = Float.NaN;
        w[6 * COLS + 500] = Float.NEGATIVE_INFINITY;
        w[7 * COLS + 1] = 65504f; // the largest finite half stays on the fast path
        byte[] bytes = GgmlType.F16.codec().orElseThrow().quantize(w);
        MemorySegment seg = MemorySegment.ofArray(bytes);
        Matrix fast = Matrix.of(GgmlType.F16, seg, ROWS, COLS);
        Matrix ref = Matrix.reference(GgmlType.F16, seg, ROWS, COLS);
        float[] x = gaussian(COLS, 12);
        for (int r = 0; r < ROWS; r++) {
            float expected = ref.dot(r, x);
            float got = fast.dot(r, x);
            if (Float.isNaN(expected) || Float.isInfinite(expected)) {
                assertThat(Float.floatToRawIntBits(got) == Float.floatToRawIntBits(expected) || (Float.isNaN(got) && Float.isNaN(expected)))
                        .as("row %d: %s vs %s", r, got, expected).isTrue();
            } else {
                assertThat(got).as("row %d", r).isCloseTo(expected, within(1e-3f * Math.max(1f, Math.abs(expected))));
            }
        }
        assertThat(fast.dot(3, x)).isInfinite();
        assertThat(fast.dot(5, x)).isNaN();
    }

    @org.junit.jupiter.api.Test
    void laneSumAddsEveryLaneInAFixedOrder() {
        var species = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        float[] v = new float[species.length()];
        for (int i = 0; i < v.length; i++) v[i] = 1 << i; // distinct powers of two: any lost lane shows
        float expected = 0f;
        for (float f : v) expected += f;
        assertThat(Dot.sumLanes(jdk.incubator.vector.FloatVector.fromArray(species, v, 0))).isEqualTo(expected);
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void matmulEqualsMatvecBitForBitForEachVector(GgmlType type) {
        byte[] w = type.codec().orElseThrow().quantize(gaussian(ROWS * COLS, 7));
        Matrix m = Matrix.of(type, MemorySegment.ofArray(w), ROWS, COLS);
        int n = 5;
        float[][] xs = new float[n][];
        float[][] outs = new float[n][ROWS];
        for (int t = 0; t < n; t++) xs[t] = gaussian(COLS, 100 + t);
        try (WorkerPool pool = new WorkerPool(2)) {
            m.matmul(xs, outs, n, pool);
            for (int t = 0; t < n; t++) {
                float[] single = new float[ROWS];
                m.matvec(xs[t], single, pool);
                for (int r = 0; r < ROWS; r++) {
                    // bit for bit: batch invariance of the engine rests on it
                    assertThat(Float.floatToRawIntBits(outs[t][r])).as("%s vector %d row %d: %s vs %s", type, t, r, outs[t][r], single[r])
                            .isEqualTo(Float.floatToRawIntBits(single[r]));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "Q8_0"})
    void matvecSplitsRowsOverThreadsWithoutChangingResults(GgmlType type) {
        byte[] w = type.codec().orElseThrow().quantize(gaussian(ROWS * COLS, 5));
        Matrix m = Matrix.of(type, MemorySegment.ofArray(w), ROWS, COLS);
        float[] x = gaussian(COLS, 6);
        float[] one = new float[ROWS];
        float[] two = new float[ROWS];
        try (WorkerPool p1 = new WorkerPool(1); WorkerPool p2 = new WorkerPool(2)) {
            m.matvec(x, one, p1);
            m.matvec(x, two, p2);
        }
        assertThat(two).containsExactly(one);
    }

    /**
     * The prompt path (rows decoded to floats, register tiles) against the decode path on the same rounded
     * activations: the same sums in another order, so within float rounding. 26 rows exercise the rows left over
     * from the groups of four, 11 vectors the vectors left over from the tiles of four.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void promptProductEqualsDecodeProductWithinRounding(GgmlType type) {
        int rows = 26;
        byte[] w = type.codec().orElseThrow().quantize(gaussian(rows * COLS, 11));
        Matrix m = Matrix.of(type, MemorySegment.ofArray(w), rows, COLS);
        int n = 11;
        float[][] xs = new float[n][];
        for (int t = 0; t < n; t++) xs[t] = gaussian(COLS, 100 + t);
        float[][] decode = new float[n][rows];
        float[][] prompt = new float[n][rows];
        try (WorkerPool pool = new WorkerPool(2)) {
            m.matmul(xs, decode, n, pool);
            m.matmulPrompt(xs, prompt, n, pool);
        }
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < rows; r++) {
                float magnitude = 0f; // the sum's scale: rounding is relative to the terms, not to a sum that may cancel
                float[] row = new float[COLS];
                Matrix.reference(type, MemorySegment.ofArray(w), rows, COLS).row(r, row);
                for (int i = 0; i < COLS; i++) magnitude += Math.abs(row[i] * xs[t][i]);
                // Q4_1/Q5_1: the decode kernels take the minimum term through Q8_1's s = d * sum(q) rounded to f16
                // (as ggml does), the prompt path through the unrounded values: 2^-11 of that term at most.
                float tolerance = type == GgmlType.Q4_1 || type == GgmlType.Q5_1 ? 2e-4f : 2e-6f;
                assertThat(prompt[t][r]).as("%s vector %d row %d", type, t, r).isCloseTo(decode[t][r], within(tolerance * magnitude + 1e-6f));
            }
        }
    }

    /**
     * A prompt token's result depends only on its own activations: alone, at any place in a batch of any size, with
     * one thread or two, the same bits.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void promptProductOfATokenDoesNotDependOnItsBatch(GgmlType type) {
        int rows = 26;
        byte[] w = type.codec().orElseThrow().quantize(gaussian(rows * COLS, 12));
        Matrix m = Matrix.of(type, MemorySegment.ofArray(w), rows, COLS);
        float[][] xs = new float[9][];
        for (int t = 0; t < xs.length; t++) xs[t] = gaussian(COLS, 200 + t);
        float[][] all = new float[9][rows];
        try (WorkerPool two = new WorkerPool(2); WorkerPool one = new WorkerPool(1)) {
            m.matmulPrompt(xs, all, 9, two);
            for (int t = 0; t < 9; t++) {
                float[][] alone = new float[1][rows];
                m.matmulPrompt(new float[][] {xs[t]}, alone, 1, one);
                assertThat(alone[0]).as("%s vector %d alone", type, t).containsExactly(all[t]);
            }
            float[][] shifted = new float[6][rows]; // vectors 3..8 at places 0..5: other tile positions
            m.matmulPrompt(java.util.Arrays.copyOfRange(xs, 3, 9), shifted, 6, two);
            for (int t = 0; t < 6; t++) assertThat(shifted[t]).as("%s vector %d moved", type, t + 3).containsExactly(all[t + 3]);
        }
    }

    /** The prompt path's row decoding (vectorised per type) gives exactly the codec's values, ggml's dequantisation. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void decodedRowsEqualTheCodecBitForBit(GgmlType type) {
        byte[] w = type.codec().orElseThrow().quantize(gaussian(ROWS * COLS, 13));
        MemorySegment seg = MemorySegment.ofArray(w);
        Matrix m = Matrix.of(type, seg, ROWS, COLS);
        Matrix ref = Matrix.reference(type, seg, ROWS, COLS);
        float[] got = new float[COLS + 7];
        float[] expected = new float[COLS];
        for (int r = 0; r < ROWS; r++) {
            m.decodeRow(r, got, 7);
            ref.row(r, expected);
            assertThat(java.util.Arrays.copyOfRange(got, 7, 7 + COLS)).as("%s row %d", type, r).containsExactly(expected);
        }
    }

    /** The prompt path's vector rounding of activations gives the decode kernels' Q8_0 values (q * d), every one. */
    @org.junit.jupiter.api.Test
    void q8RoundTripEqualsTheQuantisedValues() {
        int n = 4096 + 32;
        float[] x = gaussian(n, 21);
        for (int i = 0; i < 64; i++) x[i] = 0f; // two all-zero blocks
        for (int i = 100; i < 132; i++) x[i] = (i % 2 == 0 ? 1e-3f : -2.5f) * (i - 99); // values on half-way points
        Q8Activations a = new Q8Activations(n);
        a.quantize(x, n);
        float[] out = new float[n];
        Q8Activations.roundTrip(x, out, n);
        for (int i = 0; i < n; i++) {
            float expected = a.q[i] * a.d[i / 32];
            assertThat(out[i] == expected).as("value %d: %s vs %s", i, out[i], expected).isTrue();
        }
    }

    /** Likewise for Q8_K (the K-quants' activations), including blocks whose largest value is negative or zero. */
    @org.junit.jupiter.api.Test
    void q8kRoundTripEqualsTheQuantisedValues() {
        int n = 256 * 20;
        float[] x = gaussian(n, 22);
        for (int i = 0; i < 256; i++) x[i] = 0f;
        x[300] = -50f; // block 1: its largest magnitude is negative
        x[600] = 50f;
        x[601] = -50f; // block 2: a tie between signs
        Q8KActivations a = new Q8KActivations(n);
        a.quantize(x, n);
        float[] out = new float[n];
        Q8KActivations.roundTrip(x, out, n);
        for (int i = 0; i < n; i++) {
            float expected = a.qs[i] * a.d[i / 256];
            assertThat(out[i] == expected).as("value %d: %s vs %s", i, out[i], expected).isTrue();
        }
    }

    @Test
    void q3kPackedScalesAreTheScalesOneByOne() {
        Random random = new Random(21);
        for (int trial = 0; trial < 1000; trial++) {
            long lo = random.nextLong();
            int hi = random.nextInt();
            for (int upper = 0; upper < 2; upper++) {
                long packed = Q3KMatrix.scalesPlus32(lo, hi, upper);
                for (int k = 0; k < 8; k++) {
                    assertThat((int) (packed >>> (8 * k)) & 0xFF).as("scale %d", 8 * upper + k)
                            .isEqualTo(Q3KMatrix.scale(lo, hi, 8 * upper + k) + 32);
                }
            }
        }
    }
}
