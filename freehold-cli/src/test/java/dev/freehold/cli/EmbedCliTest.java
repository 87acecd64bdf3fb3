package dev.freehold.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EmbedCliTest {
    static Path home;

    @BeforeAll
    static void home() throws Exception {
        home = Files.createTempDirectory("freehold-home");
        System.setProperty("freehold.home", home.toString());
    }

    @AfterAll
    static void clear() {
        System.clearProperty("freehold.home");
    }

    @Test
    void theBundledModelEmbedsWithNoDownload() throws Exception {
        CliTest.Result r = CliTest.run("embed", "-q", "-t", "2", "--json", "The cat sat on the mat", "A feline rested on the rug", "Stock prices fell sharply");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(r.out());
        assertThat(o.get("dimensions").asInt()).isEqualTo(384);
        JsonNode d = o.get("data");
        assertThat(d).hasSize(3);
        double[][] v = new double[3][384];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 384; j++) v[i][j] = d.get(i).get("embedding").get(j).asDouble();
            assertThat(Math.sqrt(dot(v[i], v[i]))).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        }
        assertThat(dot(v[0], v[1])).isGreaterThan(dot(v[0], v[2]) + 0.2);
        assertThat(home.resolve("models/all-minilm.gguf")).isRegularFile();
        // plain output: one line of 384 numbers per input
        CliTest.Result plain = CliTest.run("embed", "-q", "-t", "2", "hello");
        assertThat(plain.out().strip().split(" ")).hasSize(384);
    }

    @Test
    void aDecoderModelEmbedsWithMeanPooling() throws Exception {
        Path model = CliTest.stories().resolve("stories260K.gguf");
        CliTest.Result r = CliTest.run("embed", "-q", "-m", model.toString(), "--json", "Once upon a time");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(r.out());
        assertThat(o.get("dimensions").asInt()).isEqualTo(64);
        assertThat(o.get("data").get(0).get("embedding")).hasSize(64);
        assertThat(CliTest.run("embed", "-q", "-m", model.toString(), "--pooling", "cls", "x").err()).contains("mean or last");
    }

    @Test
    void unknownModelsAndPoolingsAreRefused() {
        assertThat(CliTest.run("embed", "-m", "no-such-model", "x").err()).contains("bundled: [all-minilm]");
        assertThat(CliTest.run("embed", "-q", "--pooling", "max", "x").err()).contains("--pooling");
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
