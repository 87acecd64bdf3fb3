package dev.freehold.server;

import static dev.freehold.server.TestServer.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Several models in one server: each request goes to the model it names, each model has its own scheduler. */
class MultiModelTest {

    @Test
    void requestsGoToTheModelTheyName() throws Exception {
        Map<String, java.nio.file.Path> models = new LinkedHashMap<>();
        models.put("stories", TestModels.stories());
        models.put("random", TestModels.randomLlama());
        try (TestServer s = new TestServer(models, 2, 2, 256, Set.of(), 1 << 20)) {
            JsonNode list = json(s.get("/v1/models").body());
            assertThat(list.get("data").findValuesAsText("id")).contains("stories", "random", "all-minilm");
            JsonNode a = json(s.post("/v1/completions", "{\"model\":\"stories\",\"prompt\":\"Once upon a time\",\"max_tokens\":6,\"temperature\":0}").body());
            JsonNode b = json(s.post("/v1/completions", "{\"model\":\"random\",\"prompt\":\"Once upon a time\",\"max_tokens\":6,\"temperature\":0}").body());
            assertThat(a.get("model").asText()).isEqualTo("stories");
            assertThat(a.get("choices").get(0).get("text").asText()).startsWith(", there was");
            assertThat(b.get("model").asText()).isEqualTo("random");
            assertThat(b.get("choices").get(0).get("text").asText()).isNotEqualTo(a.get("choices").get(0).get("text").asText());
            // with two models, the model must be named
            assertThat(s.post("/v1/completions", "{\"prompt\":\"x\"}").statusCode()).isEqualTo(400);
            assertThat(json(s.get("/api/tags").body()).get("models").findValuesAsText("name")).contains("stories", "random");
        }
    }
}
