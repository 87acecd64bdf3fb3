package dev.freehold.server;

import static dev.freehold.server.TestServer.json;
import static dev.freehold.server.TestServer.sseData;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.StructuredChatCompletionCreateParams;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Structured output over both APIs with a random-weight model (which knows no JSON): whatever it samples, the
 * answer parses and validates against the schema asked for.
 */
class StructuredOutputTest {
    static final ObjectMapper JSON_MAPPER = new ObjectMapper();
    static final String SCHEMA = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":12},"
            + "\"population\":{\"type\":\"integer\"},\"capital\":{\"type\":\"boolean\"}},\"required\":[\"city\",\"population\",\"capital\"],"
            + "\"additionalProperties\":false}";
    static TestServer server;
    static JsonSchema validator;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.random();
        validator = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(JSON_MAPPER.readTree(SCHEMA));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static String chat(String extra) {
        return "{\"model\":\"random\",\"max_tokens\":300,\"messages\":[{\"role\":\"user\",\"content\":\"Name a city.\"}]," + extra + "}";
    }

    @Test
    void jsonSchemaResponsesValidateForEverySeed() throws Exception {
        for (int seed = 0; seed < 8; seed++) {
            JsonNode r = json(server.post("/v1/chat/completions", chat("\"seed\":" + seed
                    + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"city\",\"strict\":true,\"schema\":" + SCHEMA + "}}")).body());
            String content = r.get("choices").get(0).get("message").get("content").asText();
            assertThat(r.get("choices").get(0).get("finish_reason").asText()).as(content).isEqualTo("stop");
            assertThat(validator.validate(JSON_MAPPER.readTree(content))).as("seed %d: %s", seed, content).isEmpty();
        }
    }

    @Test
    void jsonObjectModeAndStreamingGiveParsableObjects() throws Exception {
        JsonNode r = json(server.post("/v1/chat/completions", chat("\"seed\":3,\"response_format\":{\"type\":\"json_object\"}")).body());
        String content = r.get("choices").get(0).get("message").get("content").asText();
        assertThat(JSON_MAPPER.readTree(content).isObject()).as(content).isTrue();
        String streamed = streamText(server.post("/v1/chat/completions", chat("\"seed\":3,\"stream\":true,\"response_format\":{\"type\":\"json_object\"}")).body());
        assertThat(streamed).isEqualTo(content);
    }

    @Test
    void aGbnfGrammarFieldAsLlamaServerTakesIt() throws Exception {
        JsonNode r = json(server.post("/v1/chat/completions", chat("\"temperature\":1,\"seed\":1,\"grammar\":\"root ::= (\\\"yes\\\" | \\\"no\\\") \\\".\\\"\"")).body());
        assertThat(r.get("choices").get(0).get("message").get("content").asText()).isIn("yes.", "no.");
    }

    @Test
    void ollamaFormatTakesJsonOrASchema() throws Exception {
        JsonNode r = json(server.post("/api/chat", "{\"model\":\"random\",\"stream\":false,\"format\":" + SCHEMA
                + ",\"options\":{\"seed\":5,\"num_predict\":300},\"messages\":[{\"role\":\"user\",\"content\":\"Name a city.\"}]}").body());
        String content = r.get("message").get("content").asText();
        assertThat(validator.validate(JSON_MAPPER.readTree(content))).as(content).isEmpty();
        JsonNode g = json(server.post("/api/generate", "{\"model\":\"random\",\"stream\":false,\"format\":\"json\",\"prompt\":\"x\",\"options\":{\"seed\":2,\"num_predict\":300}}").body());
        assertThat(JSON_MAPPER.readTree(g.get("response").asText()).isObject()).isTrue();
    }

    /**
     * A Java class as the response format, as the OpenAI SDK's structured outputs send it. (No free-text field: a
     * random-weight model rarely closes a string within the context; integers have at most 16 digits.)
     */
    public static class Census {
        public long population;
        public boolean capital;
        public Kind kind;
    }

    public enum Kind { CITY, TOWN, VILLAGE }

    @Test
    void theOpenAiSdkParsesStructuredOutputsIntoAJavaClass() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.base() + "/v1").apiKey("unused").maxRetries(0).build();
        try {
            for (long seed = 0; seed < 4; seed++) {
                StructuredChatCompletionCreateParams<Census> params = ChatCompletionCreateParams.builder().model("random")
                        .addUserMessage("Describe a place.").maxCompletionTokens(300L).seed(seed).responseFormat(Census.class).build();
                List<Census> answers = client.chat().completions().create(params).choices().stream()
                        .flatMap(c -> c.message().content().stream()).toList();
                assertThat(answers).hasSize(1);
                assertThat(answers.getFirst().kind).isNotNull();
            }
        } finally {
            client.close();
        }
    }

    static String streamText(String sse) {
        StringBuilder text = new StringBuilder();
        List<String> data = sseData(sse);
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode ch = json(d);
            if (ch.get("choices").isEmpty()) continue;
            JsonNode delta = ch.get("choices").get(0).get("delta");
            if (delta.has("content")) text.append(delta.get("content").asText());
        }
        return text.toString();
    }
}
