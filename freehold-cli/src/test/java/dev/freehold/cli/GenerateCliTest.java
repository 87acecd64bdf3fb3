package dev.freehold.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class GenerateCliTest {
    static String model() {
        return CliTest.stories().resolve("stories260K.gguf").toString();
    }

    @Test
    void greedyFromBosFollowsThePublishedText() throws Exception {
        String expected = Files.readString(CliTest.stories().resolve("reference/llama2c_doc_greedy_t0.0_n256.txt"));
        CliTest.Result r = CliTest.run("generate", "-m", model(), "-n", "60", "--temperature", "0");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(expected).startsWith(r.out().strip());
        assertThat(r.out().strip().length()).isGreaterThan(150);
    }

    @Test
    void jsonOutputAndSeededSamplingIsReproducibleAcrossRunsAndThreadCounts() throws Exception {
        String[] base = {"generate", "-m", model(), "-p", "Lily", "-n", "40", "--temperature", "1", "--seed", "1234", "--json"};
        JsonNode a = new ObjectMapper().readTree(CliTest.run(concat(base, "-t", "1")).out());
        JsonNode b = new ObjectMapper().readTree(CliTest.run(concat(base, "-t", "2")).out());
        JsonNode c = new ObjectMapper().readTree(CliTest.run(concat(base, "-t", "2")).out());
        for (String key : new String[] {"text", "tokens", "prompt_tokens", "finish_reason", "timings"}) assertThat(a.has(key)).as(key).isTrue();
        assertThat(a.get("timings").has("prompt_tokens_per_second")).isTrue();
        assertThat(a.get("timings").has("generation_tokens_per_second")).isTrue();
        assertThat(a.get("prompt_tokens").asInt()).isEqualTo(2); // BOS, "▁Lily"
        assertThat(a.get("tokens")).isEqualTo(b.get("tokens")).isEqualTo(c.get("tokens"));
        assertThat(a.get("text").asText()).isEqualTo(b.get("text").asText());
        JsonNode other = new ObjectMapper().readTree(CliTest.run("generate", "-m", model(), "-p", "Lily", "-n", "40", "--temperature", "1",
                "--seed", "99", "--json").out());
        assertThat(other.get("tokens")).isNotEqualTo(a.get("tokens"));
    }

    @Test
    void badValuesAreRefused() {
        assertThat(CliTest.run("generate", "-m", model(), "--temperature", "NaN").err()).contains("temperature must be between");
        assertThat(CliTest.run("generate", "-m", model(), "--top-p", "1.5").err()).contains("top-p must be between");
        assertThat(CliTest.run("generate", "-m", model(), "--top-k", "-1").err()).contains("top-k must not be negative");
        CliTest.Result tooLong = CliTest.run("generate", "-m", model(), "-c", "8", "-p", "Once upon a time there was a girl");
        assertThat(tooLong.code()).isEqualTo(2);
        assertThat(tooLong.err()).contains("the context holds 8");
        assertThat(CliTest.run("generate", "-m", model(), "-t", "0").err()).contains("threads must be at least 1");
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void jsonSchemaKeepsTheOutputToValidJson(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path schema = tmp.resolve("schema.json");
        java.nio.file.Files.writeString(schema, "{\"type\":\"object\",\"properties\":{\"hero\":{\"type\":\"string\",\"maxLength\":10},"
                + "\"brave\":{\"type\":\"boolean\"}},\"required\":[\"hero\",\"brave\"]}");
        java.nio.file.Path model = CliTest.stories().resolve("stories260K.gguf");
        CliTest.Result r = CliTest.run("generate", "-m", model.toString(), "-p", "Once upon a time", "-n", "200", "--seed", "4",
                "--temperature", "1", "--json-schema", schema.toString(), "--json");
        org.assertj.core.api.Assertions.assertThat(r.code()).as(r.err()).isZero();
        com.fasterxml.jackson.databind.JsonNode out = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        com.fasterxml.jackson.databind.JsonNode doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.get("text").asText());
        org.assertj.core.api.Assertions.assertThat(doc.get("brave").isBoolean()).isTrue();
        org.assertj.core.api.Assertions.assertThat(doc.get("hero").asText().length()).isLessThanOrEqualTo(10);
        java.nio.file.Path bad = tmp.resolve("bad.gbnf");
        java.nio.file.Files.writeString(bad, "root ::= \"a\" | b\n");
        CliTest.Result e = CliTest.run("generate", "-m", model.toString(), "-p", "x", "--grammar", bad.toString());
        org.assertj.core.api.Assertions.assertThat(e.code()).isEqualTo(Main.EXIT_BAD_INPUT);
        org.assertj.core.api.Assertions.assertThat(e.err()).contains("rule 'b' is used but not defined").contains("line 1");
    }
}
