package dev.freehold.core.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.tensor.TensorCodec;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufRoundTripTest {

    @Test
    void everyMetadataTypeAndNestedArraysSurviveAWriteAndRead(@TempDir Path tmp) throws Exception {
        GgufWriter w = new GgufWriter();
        w.put("u8", new GgufValue(GgufValueType.UINT8, null, 255L));
        w.put("i8", new GgufValue(GgufValueType.INT8, null, -128L));
        w.put("u16", new GgufValue(GgufValueType.UINT16, null, 65535L));
        w.put("i16", new GgufValue(GgufValueType.INT16, null, -32768L));
        w.put("u32", GgufValue.ofUInt32(4294967295L));
        w.put("i32", GgufValue.ofInt32(Integer.MIN_VALUE));
        w.put("u64", GgufValue.ofUInt64(-1L));
        w.put("i64", new GgufValue(GgufValueType.INT64, null, Long.MIN_VALUE));
        w.put("f32", GgufValue.ofFloat32(1.5e-5f));
        w.put("f64", new GgufValue(GgufValueType.FLOAT64, null, Math.PI));
        w.put("bool", GgufValue.ofBool(true));
        w.put("string", GgufValue.ofString("héllo ▁ 世界 \n"));
        w.put("strings", GgufValue.ofStrings(new String[] {"a", "", "ü"}));
        w.put("floats", GgufValue.ofFloat32s(new float[] {1f, -2.5f}));
        w.put("bools", new GgufValue(GgufValueType.ARRAY, GgufValueType.BOOL, new boolean[] {true, false}));
        w.put("nested", new GgufValue(GgufValueType.ARRAY, GgufValueType.ARRAY, new GgufValue[] {
                GgufValue.ofInts(GgufValueType.INT32, new long[] {1, 2, 3}), GgufValue.ofStrings(new String[] {"x"})}));
        w.put("general.alignment", GgufValue.ofUInt32(64));

        Random r = new Random(1);
        GgmlType[] types = {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1,
                GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K};
        byte[][] payloads = new byte[types.length][];
        for (int i = 0; i < types.length; i++) {
            float[] x = new float[512 * 3];
            for (int j = 0; j < x.length; j++) x[j] = (float) r.nextGaussian();
            payloads[i] = types[i].codec().orElseThrow().quantize(x);
            byte[] p = payloads[i];
            w.tensor("t" + i, types[i], new long[] {512, 3}, sink -> sink.write(p));
        }
        Path file = tmp.resolve("all.gguf");
        w.write(file);

        try (GgufFile g = GgufFile.open(file)) {
            assertThat(g.version()).isEqualTo(3);
            assertThat(g.alignment()).isEqualTo(64);
            assertThat(g.metadata()).isEqualTo(w.metadata());
            assertThat(g.metadata().keySet()).containsExactlyElementsOf(w.metadata().keySet());
            for (int i = 0; i < types.length; i++) {
                GgufTensorInfo t = g.tensor("t" + i).orElseThrow();
                assertThat(t.type()).isEqualTo(types[i]);
                assertThat(t.offset() % 64).isZero();
                assertThat(g.data(t).mismatch(MemorySegment.ofArray(payloads[i]))).isEqualTo(-1L);
            }
        }
        assertThat(Files.list(tmp)).as("no temporary file left behind").containsExactly(file);
    }

    @Test
    void quantiseThenDequantiseStaysWithinEachTypesErrorBound() {
        // Relative RMS error bounds for Gaussian weights, a little above what ggml's own quantisers achieve
        // (e.g. Q4_0 ~0.10, Q8_0 ~0.004); a broken block layout gives errors near or above 1.
        Object[][] bounds = {
                {GgmlType.F32, 0.0}, {GgmlType.F16, 0.0005}, {GgmlType.BF16, 0.004}, {GgmlType.Q8_0, 0.006},
                {GgmlType.Q6_K, 0.02}, {GgmlType.Q5_1, 0.04}, {GgmlType.Q5_0, 0.05}, {GgmlType.Q5_K, 0.04},
                {GgmlType.Q4_1, 0.08}, {GgmlType.Q4_0, 0.11}, {GgmlType.Q4_K, 0.09}, {GgmlType.Q3_K, 0.2},
                {GgmlType.Q2_K, 0.4}, {GgmlType.Q8_K, 0.01}};
        Random r = new Random(3);
        float[] x = new float[256 * 64];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (Object[] b : bounds) {
            GgmlType t = (GgmlType) b[0];
            TensorCodec c = t.codec().orElseThrow();
            float[] y = c.dequantize(c.quantize(x), x.length);
            double err = 0;
            double ref = 0;
            for (int i = 0; i < x.length; i++) {
                err += (x[i] - y[i]) * (double) (x[i] - y[i]);
                ref += x[i] * (double) x[i];
            }
            assertThat(Math.sqrt(err / ref)).as("relative RMS error of %s", t).isLessThanOrEqualTo((double) b[1]);
        }
    }
}
