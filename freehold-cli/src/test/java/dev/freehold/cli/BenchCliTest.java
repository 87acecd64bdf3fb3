package dev.freehold.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class BenchCliTest {
    @Test
    void jsonHasOneRowPerTestWithSpeedAndMemory() throws Exception {
        CliTest.Result r = CliTest.run("bench", "-m", GenerateCliTest.model(), "-p", "16,32", "-n", "8", "-r", "2", "-t", "1", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode rows = new ObjectMapper().readTree(r.out());
        assertThat(rows).hasSize(3);
        assertThat(rows.get(0).get("test").asText()).isEqualTo("pp16");
        assertThat(rows.get(1).get("test").asText()).isEqualTo("pp32");
        assertThat(rows.get(2).get("test").asText()).isEqualTo("tg8");
        for (JsonNode row : rows) {
            assertThat(row.get("tokens_per_second").asDouble()).isPositive();
            assertThat(row.get("runs")).hasSize(2);
            // on Linux the weights show up as file pages (mapped), not as anonymous memory
            assertThat(row.get("rss_file_bytes").asLong()).isPositive();
            assertThat(row.get("rss_bytes").asLong()).isGreaterThanOrEqualTo(row.get("rss_file_bytes").asLong());
        }
    }

    @Test
    void depthRepeatsEveryTestAfterThatMuchContext() throws Exception {
        CliTest.Result r = CliTest.run("bench", "-m", GenerateCliTest.model(), "-p", "8", "-n", "4", "-d", "0,16", "-r", "1", "-t", "1", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode rows = new ObjectMapper().readTree(r.out());
        assertThat(rows).extracting(row -> row.get("test").asText()).containsExactly("pp8", "tg4", "pp8 @ d16", "tg4 @ d16");
        for (JsonNode row : rows) assertThat(row.get("tokens_per_second").asDouble()).isPositive();
        CliTest.Result tooDeep = CliTest.run("bench", "-m", GenerateCliTest.model(), "-p", "0", "-n", "4", "-d", "100000");
        assertThat(tooDeep.code()).isEqualTo(2);
        assertThat(tooDeep.err()).contains("-d 100000 plus -n 4 does not fit the model's context");
        // a depth is checked even when no test would run after it: it sizes the token buffer
        CliTest.Result huge = CliTest.run("bench", "-m", GenerateCliTest.model(), "-p", "0", "-n", "0", "-d", "2000000000");
        assertThat(huge.code()).isEqualTo(2);
        assertThat(huge.err()).contains("-d 2000000000 does not fit the model's context");
        CliTest.Result negative = CliTest.run("bench", "-m", GenerateCliTest.model(), "-d", "-1");
        assertThat(negative.code()).isEqualTo(2);
        assertThat(negative.err()).contains("-d must not be negative");
    }

    @Test
    void promptsBeyondTheContextAndNegativeCountsAreClearErrors() {
        CliTest.Result tooLong = CliTest.run("bench", "-m", GenerateCliTest.model(), "-p", "100000", "-n", "0");
        assertThat(tooLong.code()).isEqualTo(2);
        assertThat(tooLong.err()).contains("exceeds the model's context");
        // checked before the prompt buffer is sized by it
        CliTest.Result huge = CliTest.run("bench", "-m", GenerateCliTest.model(), "-p", "2000000000", "-n", "0");
        assertThat(huge.code()).isEqualTo(2);
        assertThat(huge.err()).contains("exceeds the model's context");
        CliTest.Result longGen = CliTest.run("bench", "-m", GenerateCliTest.model(), "-p", "0", "-n", "100000");
        assertThat(longGen.code()).isEqualTo(2);
        assertThat(longGen.err()).contains("does not fit the model's context");
        CliTest.Result negative = CliTest.run("bench", "-m", GenerateCliTest.model(), "-n", "-3");
        assertThat(negative.code()).isEqualTo(2);
        assertThat(negative.err()).contains("-n must not be negative");
        // the comparison lives in the benchmark module, which the CLI alone does not carry
        CliTest.Result compare = CliTest.run("bench", "-m", GenerateCliTest.model(), "-p", "8", "-n", "0", "--compare-llamacpp");
        assertThat(compare.code()).isEqualTo(2);
        assertThat(compare.err()).contains("benchmarks.jar");
    }
}
