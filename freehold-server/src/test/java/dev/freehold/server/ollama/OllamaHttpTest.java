package dev.freehold.server.ollama;

import static dev.freehold.server.TestServer.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.freehold.server.TestServer;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Ollama API's exact JSON and NDJSON framing, checked over raw HTTP against a real server. */
class OllamaHttpTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.random();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static List<JsonNode> ndjson(String body) {
        assertThat(body).endsWith("\n");
        return body.lines().map(TestServer::json).toList();
    }

    @Test
    void generateStreamsNdjsonByDefaultAndEndsWithTimings() throws Exception {
        HttpResponse<String> r = server.post("/api/generate",
                "{\"model\":\"random\",\"prompt\":\"Why is the sky blue?\",\"options\":{\"temperature\":0,\"num_predict\":10}}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("application/x-ndjson");
        List<JsonNode> lines = ndjson(r.body());
        StringBuilder text = new StringBuilder();
        for (JsonNode l : lines.subList(0, lines.size() - 1)) {
            assertThat(l.get("model").asText()).isEqualTo("random");
            assertThat(Instant.parse(l.get("created_at").asText())).isNotNull();
            assertThat(l.get("done").asBoolean()).isFalse();
            text.append(l.get("response").asText());
        }
        JsonNode last = lines.getLast();
        assertThat(last.get("done").asBoolean()).isTrue();
        assertThat(last.get("done_reason").asText()).isIn("stop", "length");
        for (String f : List.of("total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration")) {
            assertThat(last.get(f).isIntegralNumber()).as(f).isTrue();
        }
        assertThat(last.get("eval_count").asInt()).isBetween(1, 10);
        assertThat(last.get("total_duration").asLong()).isGreaterThanOrEqualTo(last.get("eval_duration").asLong());
        // the same request without streaming gives the same text in one object
        JsonNode whole = json(server.post("/api/generate",
                "{\"model\":\"random\",\"prompt\":\"Why is the sky blue?\",\"stream\":false,\"options\":{\"temperature\":0,\"num_predict\":10}}").body());
        assertThat(whole.get("response").asText()).isEqualTo(text.toString());
        assertThat(whole.get("done").asBoolean()).isTrue();
    }

    @Test
    void rawGenerateMatchesOpenAiCompletionsGreedy() throws Exception {
        JsonNode o = json(server.post("/api/generate",
                "{\"model\":\"random\",\"prompt\":\"hello\",\"raw\":true,\"stream\":false,\"options\":{\"temperature\":0,\"num_predict\":8,\"repeat_penalty\":1}}").body());
        JsonNode c = json(server.post("/v1/completions", "{\"model\":\"random\",\"prompt\":\"hello\",\"max_tokens\":8,\"temperature\":0}").body());
        assertThat(o.get("response").asText()).isEqualTo(c.get("choices").get(0).get("text").asText());
    }

    @Test
    void chatStreamsMessagesAndHonoursOptions() throws Exception {
        HttpResponse<String> r = server.post("/api/chat",
                "{\"model\":\"random\",\"messages\":[{\"role\":\"system\",\"content\":\"short\"},{\"role\":\"user\",\"content\":\"hi\"}],"
                        + "\"options\":{\"seed\":7,\"temperature\":1,\"num_predict\":6}}");
        List<JsonNode> lines = ndjson(r.body());
        StringBuilder text = new StringBuilder();
        for (JsonNode l : lines) {
            assertThat(l.get("message").get("role").asText()).isEqualTo("assistant");
            text.append(l.get("message").get("content").asText());
        }
        assertThat(lines.getLast().get("done").asBoolean()).isTrue();
        JsonNode again = json(server.post("/api/chat",
                "{\"model\":\"random\",\"messages\":[{\"role\":\"system\",\"content\":\"short\"},{\"role\":\"user\",\"content\":\"hi\"}],"
                        + "\"stream\":false,\"options\":{\"seed\":7,\"temperature\":1,\"num_predict\":6}}").body());
        assertThat(again.get("message").get("content").asText()).isEqualTo(text.toString());
        assertThat(again.get("eval_count").asInt()).isEqualTo(lines.getLast().get("eval_count").asInt());
    }

    @Test
    void anEmptyPromptLoadsTheModelAndAnswersAtOnce() throws Exception {
        JsonNode r = json(server.post("/api/generate", "{\"model\":\"random\"}").body());
        assertThat(r.get("done").asBoolean()).isTrue();
        assertThat(r.get("done_reason").asText()).isEqualTo("load");
    }

    @Test
    void listingsDescribeTheServedModels() throws Exception {
        JsonNode tags = json(server.get("/api/tags").body());
        JsonNode m = tags.get("models").get(0);
        assertThat(m.get("name").asText()).isEqualTo("random");
        assertThat(m.get("digest").asText()).matches("[0-9a-f]{64}");
        assertThat(m.get("size").asLong()).isPositive();
        assertThat(m.get("details").get("format").asText()).isEqualTo("gguf");
        assertThat(m.get("details").get("family").asText()).isEqualTo("llama");
        assertThat(m.get("details").get("quantization_level").asText()).isEqualTo("Q8_0");
        JsonNode show = json(server.post("/api/show", "{\"model\":\"random\"}").body());
        assertThat(show.get("model_info").get("llama.block_count").asInt()).isEqualTo(2);
        assertThat(show.get("capabilities").get(0).asText()).isEqualTo("completion");
        JsonNode ps = json(server.get("/api/ps").body());
        assertThat(ps.get("models").get(0).get("name").asText()).isEqualTo("random");
        assertThat(json(server.get("/api/version").body()).get("version").asText()).matches("\\d+\\.\\d+\\.\\d+");
        // Ollama names carry a tag: "random:latest" is the same model
        assertThat(server.post("/api/show", "{\"model\":\"random:latest\"}").statusCode()).isEqualTo(200);
    }

    @Test
    void errorsAreOllamasShape() throws Exception {
        record Case(String path, String body, int status) {
        }
        for (Case c : List.of(
                new Case("/api/generate", "{\"model\":\"nope\",\"prompt\":\"x\"}", 404),
                new Case("/api/chat", "{\"model\":\"random\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"options\":{\"temperature\":\"hot\"}}", 400),
                new Case("/api/chat", "{\"model\":\"random\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"format\":\"yaml\"}", 400),
                new Case("/api/chat", "{\"model\":\"random\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{}]}", 400),
                new Case("/api/chat", "{\"model\":\"random\",\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"images\":[\"aGk=\"]}]}", 400),
                new Case("/api/generate", "{\"model\":\"random\",\"prompt\":\"x\",\"suffix\":\"y\"}", 400),
                new Case("/api/generate", "{oops", 400),
                new Case("/api/show", "{\"model\":\"nope\"}", 404))) {
            HttpResponse<String> r = server.post(c.path(), c.body());
            assertThat(r.statusCode()).as(c.body()).isEqualTo(c.status());
            JsonNode e = json(r.body());
            assertThat(e.get("error").isTextual()).as(r.body()).isTrue();
        }
        assertThat(server.get("/api/nothing").statusCode()).isEqualTo(404);
        assertThat(json(server.get("/api/nothing").body()).get("error").isTextual()).isTrue();
    }
}
