package dev.freehold.core.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.freehold.core.testing.GgmlOracle;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Holds every codec to ggml's own code, bit for bit: our quantised bytes must equal ggml's reference
 * quantiser's for the same floats, and our dequantised floats must equal ggml's for the same bytes.
 * Inputs mix distributions that stress different paths: Gaussian weights, heavy tails, all-positive and
 * all-negative blocks, constant and all-zero blocks, tiny and huge magnitudes.
 */
class TensorCodecOracleTest {

    static final GgmlType[] CODEC_TYPES = {
            GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
            GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K};

    static Stream<Arguments> typesAndDistributions() {
        return Arrays.stream(CODEC_TYPES).flatMap(t -> Arrays.stream(Distribution.values()).map(d -> Arguments.of(t, d)));
    }

    enum Distribution {
        GAUSSIAN, HEAVY_TAILED, POSITIVE, NEGATIVE, SPARSE_AND_CONSTANT, EXTREME_SCALES
    }

    static float[] sample(Distribution d, int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (d) {
                case GAUSSIAN -> (float) (r.nextGaussian() * 0.02);
                case HEAVY_TAILED -> (float) (r.nextGaussian() * Math.exp(r.nextGaussian() * 1.5));
                case POSITIVE -> (float) Math.abs(r.nextGaussian()) + 0.01f;
                case NEGATIVE -> -(float) Math.abs(r.nextGaussian() * 3) - 0.5f;
                // blocks of 256: zeros, a constant, a single spike, then noise
                case SPARSE_AND_CONSTANT -> switch ((i / 256) % 4) {
                    case 0 -> 0f;
                    case 1 -> 0.75f;
                    case 2 -> i % 256 == 7 ? 5f : 0f;
                    default -> (float) r.nextGaussian();
                };
                case EXTREME_SCALES -> (float) (r.nextGaussian() * ((i / 256) % 2 == 0 ? 1e-6 : 1e3));
            };
        }
        return x;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("typesAndDistributions")
    void quantisationMatchesGgmlBitForBit(GgmlType type, Distribution dist) {
        int n = 256 * 16;
        float[] x = sample(dist, n, 42 + dist.ordinal() * 1000L + type.id());
        TensorCodec codec = type.codec().orElseThrow();
        byte[] ours = codec.quantize(x);
        byte[] ggml = GgmlOracle.quantize(type, x);
        if (type == GgmlType.Q8_K) {
            // ggml leaves the block sums of an all-zero Q8_K block unwritten (uninitialised); we write zeros.
            maskZeroQ8kSums(ours, ggml);
        }
        assertBytesEqual(type, ours, ggml);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("typesAndDistributions")
    void dequantisationMatchesGgmlBitForBit(GgmlType type, Distribution dist) {
        int n = 256 * 16;
        float[] x = sample(dist, n, 7 + dist.ordinal());
        byte[] q = GgmlOracle.quantize(type, x);
        TensorCodec codec = type.codec().orElseThrow();
        float[] ours = codec.dequantize(q, n);
        float[] ggml = GgmlOracle.dequantize(type, q, n);
        for (int i = 0; i < n; i++) {
            assertThat(Float.floatToRawIntBits(ours[i]))
                    .as("%s %s value %d: ours %s, ggml %s", type, dist, i, ours[i], ggml[i])
                    .isEqualTo(Float.floatToRawIntBits(ggml[i]));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomBytesTypes")
    void dequantisationOfArbitraryBytesMatchesGgml(GgmlType type) {
        // Bytes no quantiser would write (odd scales, every bit pattern) must still decode identically.
        int n = 256 * 8;
        byte[] q = new byte[(int) type.bytesFor(n)];
        new Random(type.id()).nextBytes(q);
        // Keep half-precision scales finite so that NaN payloads do not make the comparison meaningless.
        float[] ggml = GgmlOracle.dequantize(type, q, n);
        float[] ours = type.codec().orElseThrow().dequantize(q, n);
        for (int i = 0; i < n; i++) {
            if (Float.isNaN(ggml[i])) {
                assertThat(ours[i]).as("%s value %d", type, i).isNaN();
            } else {
                assertThat(ours[i]).as("%s value %d", type, i).isEqualTo(ggml[i]);
            }
        }
    }

    static Stream<GgmlType> randomBytesTypes() {
        return Arrays.stream(CODEC_TYPES);
    }

    private static void maskZeroQ8kSums(byte[] ours, byte[] ggml) {
        int bb = GgmlType.Q8_K.blockBytes();
        for (int b = 0; b < ours.length / bb; b++) {
            boolean zero = true;
            for (int i = 0; i < 4; i++) zero &= ggml[b * bb + i] == 0;
            if (zero) {
                Arrays.fill(ours, b * bb + 260, b * bb + bb, (byte) 0);
                Arrays.fill(ggml, b * bb + 260, b * bb + bb, (byte) 0);
            }
        }
    }

    static void assertBytesEqual(GgmlType type, byte[] ours, byte[] ggml) {
        assertThat(ours.length).isEqualTo(ggml.length);
        int bb = type.blockBytes();
        for (int b = 0; b < ours.length / bb; b++) {
            byte[] a = Arrays.copyOfRange(ours, b * bb, (b + 1) * bb);
            byte[] g = Arrays.copyOfRange(ggml, b * bb, (b + 1) * bb);
            assertThat(HexFormat.of().formatHex(a)).as("%s block %d", type, b).isEqualTo(HexFormat.of().formatHex(g));
        }
    }
}
