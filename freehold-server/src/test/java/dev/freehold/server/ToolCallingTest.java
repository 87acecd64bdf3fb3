package dev.freehold.server;

import static dev.freehold.server.TestServer.json;
import static dev.freehold.server.TestServer.sseData;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tool calling with a random-weight model and a tool-capable template: forced calls (required or named) always come
 * back as OpenAI tool_calls whose arguments validate; streaming deltas merge to the same calls; history with calls
 * and results renders; Ollama's shape.
 */
class ToolCallingTest {
    static final ObjectMapper M = new ObjectMapper();
    static final String WEATHER = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":10},"
            + "\"unit\":{\"enum\":[\"celsius\",\"fahrenheit\"]}},\"required\":[\"city\",\"unit\"]}";
    static final String ADD = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"integer\"}},\"required\":[\"a\",\"b\"]}";
    static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather in a city\",\"parameters\":" + WEATHER + "}},"
            + "{\"type\":\"function\",\"function\":{\"name\":\"add\",\"parameters\":" + ADD + "}}]";
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = new TestServer(Map.of("tools", TestModels.randomLlamaWithTools()), 2, 4, 2048, Set.of(), 1 << 20);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static String request(String extra) {
        return "{\"model\":\"tools\",\"max_tokens\":200,\"tools\":" + TOOLS + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Oslo?\"}]"
                + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    static void assertValidCall(JsonNode call) throws Exception {
        assertThat(call.get("id").asText()).startsWith("call_");
        assertThat(call.get("type").asText()).isEqualTo("function");
        String name = call.get("function").get("name").asText();
        assertThat(name).isIn("get_weather", "add");
        JsonNode args = M.readTree(call.get("function").get("arguments").asText());
        var schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(M.readTree(name.equals("add") ? ADD : WEATHER));
        assertThat(schema.validate(args)).as("%s(%s)", name, args).isEmpty();
    }

    @Test
    void requiredToolChoiceAlwaysGivesValidCalls() throws Exception {
        for (int seed = 0; seed < 6; seed++) {
            JsonNode r = json(server.post("/v1/chat/completions", request("\"tool_choice\":\"required\",\"parallel_tool_calls\":false,\"seed\":" + seed)).body());
            assertThat(r.has("choices")).as(r.toString()).isTrue();
            JsonNode c = r.get("choices").get(0);
            assertThat(c.get("finish_reason").asText()).as(r.toString()).isEqualTo("tool_calls");
            assertThat(c.get("message").get("tool_calls").size()).isGreaterThanOrEqualTo(1);
            for (JsonNode call : c.get("message").get("tool_calls")) assertValidCall(call);
        }
    }

    @Test
    void aNamedFunctionIsTheOneCalled() throws Exception {
        JsonNode r = json(server.post("/v1/chat/completions",
                request("\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"add\"}},\"seed\":3")).body());
        JsonNode calls = r.get("choices").get(0).get("message").get("tool_calls");
        assertThat(calls).hasSize(1);
        assertThat(calls.get(0).get("function").get("name").asText()).isEqualTo("add");
        assertValidCall(calls.get(0));
    }

    @Test
    void streamedToolCallDeltasMergeToTheSameCalls() throws Exception {
        JsonNode whole = json(server.post("/v1/chat/completions", request("\"tool_choice\":\"required\",\"seed\":9,\"parallel_tool_calls\":false")).body())
                .get("choices").get(0).get("message").get("tool_calls");
        List<String> data = sseData(server.post("/v1/chat/completions", request("\"tool_choice\":\"required\",\"seed\":9,\"parallel_tool_calls\":false,\"stream\":true")).body());
        assertThat(data.getLast()).isEqualTo("[DONE]");
        Map<Integer, String> names = new TreeMap<>();
        Map<Integer, StringBuilder> args = new TreeMap<>();
        String finish = null;
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode choice = json(d).get("choices").get(0);
            if (choice.hasNonNull("finish_reason")) finish = choice.get("finish_reason").asText();
            JsonNode tcs = choice.get("delta").get("tool_calls");
            if (tcs == null) continue;
            for (JsonNode tc : tcs) {
                int index = tc.get("index").asInt();
                if (tc.has("id")) names.put(index, tc.get("function").get("name").asText());
                args.computeIfAbsent(index, k -> new StringBuilder()).append(tc.get("function").get("arguments").asText());
            }
        }
        assertThat(finish).isEqualTo("tool_calls");
        assertThat(names).hasSize(whole.size());
        for (int i = 0; i < whole.size(); i++) {
            assertThat(names.get(i)).isEqualTo(whole.get(i).get("function").get("name").asText());
            assertThat(M.readTree(args.get(i).toString())).isEqualTo(M.readTree(whole.get(i).get("function").get("arguments").asText()));
        }
    }

    @Test
    void autoAnswersAreTextOrWellFormedCallsNeverBrokenOnes() throws Exception {
        for (int seed = 0; seed < 4; seed++) {
            JsonNode c = json(server.post("/v1/chat/completions", request("\"tool_choice\":\"auto\",\"max_tokens\":40,\"seed\":" + seed)).body())
                    .get("choices").get(0);
            if (c.get("finish_reason").asText().equals("tool_calls")) {
                for (JsonNode call : c.get("message").get("tool_calls")) assertValidCall(call);
            } else {
                assertThat(c.get("message").has("tool_calls")).isFalse();
                assertThat(c.get("message").get("content").isTextual()).isTrue();
            }
        }
    }

    /** With tools offered (auto), a text answer still streams token by token once it cannot be a call. */
    @Test
    void autoTextAnswersStreamAsTheyComeAndMatchTheWholeAnswer() throws Exception {
        for (int seed = 0; seed < 6; seed++) {
            JsonNode whole = json(server.post("/v1/chat/completions", request("\"tool_choice\":\"auto\",\"max_tokens\":30,\"seed\":" + seed)).body())
                    .get("choices").get(0);
            if (whole.get("finish_reason").asText().equals("tool_calls")) continue;
            List<String> data = sseData(server.post("/v1/chat/completions",
                    request("\"tool_choice\":\"auto\",\"max_tokens\":30,\"stream\":true,\"seed\":" + seed)).body());
            StringBuilder text = new StringBuilder();
            int contentChunks = 0;
            for (String d : data.subList(0, data.size() - 1)) {
                JsonNode delta = json(d).get("choices").get(0).get("delta");
                if (delta.has("content") && !delta.get("content").asText().isEmpty()) {
                    contentChunks++;
                    text.append(delta.get("content").asText());
                }
                assertThat(delta.has("tool_calls")).isFalse();
            }
            assertThat(text.toString()).isEqualTo(whole.get("message").get("content").asText());
            assertThat(contentChunks).as("streamed in pieces, not at the end").isGreaterThan(3);
            return;
        }
        throw new AssertionError("every seed gave a tool call; no text answer to stream");
    }

    @Test
    void historyWithCallsAndResultsRendersAndTheAnswerComesBack() throws Exception {
        String body = "{\"model\":\"tools\",\"max_tokens\":20,\"seed\":1,\"tools\":" + TOOLS + ",\"tool_choice\":\"none\",\"messages\":["
                + "{\"role\":\"user\",\"content\":\"Weather in Oslo?\"},"
                + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\",\\\"unit\\\":\\\"celsius\\\"}\"}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"-3 degrees, snow\"}]}";
        JsonNode r = json(server.post("/v1/chat/completions", body).body());
        JsonNode c = r.get("choices").get(0);
        assertThat(c.get("finish_reason").asText()).isIn("stop", "length");
        assertThat(c.get("message").get("content").isTextual()).isTrue();
        assertThat(c.get("message").has("tool_calls")).isFalse();
    }

    @Test
    void badToolRequestsAreRefusedByName() throws Exception {
        record Case(String body, String param) {
        }
        for (Case c : List.of(
                new Case(request("\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}"), "tool_choice"),
                new Case(request("\"tool_choice\":\"sometimes\""), "tool_choice"),
                new Case("{\"model\":\"tools\",\"tool_choice\":\"required\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "tool_choice"),
                new Case("{\"model\":\"tools\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"bad name!\"}}],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                        "tools[0].function.name"),
                new Case("{\"model\":\"tools\",\"tool_choice\":\"required\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":"
                        + "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":0}}}}}],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "tools"))) {
            var r = server.post("/v1/chat/completions", c.body());
            assertThat(r.statusCode()).as(c.body()).isEqualTo(400);
            assertThat(json(r.body()).get("error").get("param").asText()).isEqualTo(c.param());
        }
    }

    @Test
    void ollamaChatTakesToolsAndAnswersInItsShape() throws Exception {
        JsonNode r = json(server.post("/api/chat", "{\"model\":\"tools\",\"stream\":false,\"tools\":" + TOOLS
                + ",\"options\":{\"seed\":2,\"num_predict\":30},\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Oslo?\"}]}").body());
        JsonNode msg = r.get("message");
        assertThat(msg.get("role").asText()).isEqualTo("assistant");
        if (msg.has("tool_calls")) {
            for (JsonNode call : msg.get("tool_calls")) assertThat(call.get("function").get("arguments").isObject()).isTrue();
        } else {
            assertThat(msg.get("content").isTextual()).isTrue();
        }
        assertThat(r.get("done").asBoolean()).isTrue();
    }

    @Test
    void theOpenAiSdkFunctionCallingRoundTrip() throws Exception {
        var client = com.openai.client.okhttp.OpenAIOkHttpClient.builder().baseUrl(server.base() + "/v1").apiKey("unused").maxRetries(0).build();
        try {
            var params = com.openai.models.FunctionParameters.builder()
                    .putAdditionalProperty("type", com.openai.core.JsonValue.from("object"))
                    .putAdditionalProperty("properties", com.openai.core.JsonValue.from(Map.of("a", Map.of("type", "integer"), "b", Map.of("type", "integer"))))
                    .putAdditionalProperty("required", com.openai.core.JsonValue.from(List.of("a", "b"))).build();
            var tool = com.openai.models.chat.completions.ChatCompletionFunctionTool.builder()
                    .function(com.openai.models.FunctionDefinition.builder().name("add").description("Adds two integers").parameters(params).build()).build();
            var first = client.chat().completions().create(com.openai.models.chat.completions.ChatCompletionCreateParams.builder()
                    .model("tools").addUserMessage("What is 2 + 3?").addTool(tool).maxCompletionTokens(400L).seed(5L).parallelToolCalls(false)
                    .toolChoice(com.openai.models.chat.completions.ChatCompletionToolChoiceOption.Auto.REQUIRED).build());
            var choice = first.choices().getFirst();
            assertThat(choice.finishReason().asString()).isEqualTo("tool_calls");
            var call = choice.message().toolCalls().orElseThrow().getFirst();
            var fn = call.asFunction().function();
            assertThat(fn.name()).isEqualTo("add");
            JsonNode args = M.readTree(fn.arguments());
            assertThat(args.get("a").isIntegralNumber() && args.get("b").isIntegralNumber()).isTrue();
            var second = client.chat().completions().create(com.openai.models.chat.completions.ChatCompletionCreateParams.builder()
                    .model("tools").addUserMessage("What is 2 + 3?").addTool(tool)
                    .addMessage(choice.message())
                    .addMessage(com.openai.models.chat.completions.ChatCompletionToolMessageParam.builder()
                            .toolCallId(call.asFunction().id()).content(String.valueOf(args.get("a").asLong() + args.get("b").asLong())).build())
                    .toolChoice(com.openai.models.chat.completions.ChatCompletionToolChoiceOption.Auto.NONE).maxCompletionTokens(10L).build());
            assertThat(second.choices().getFirst().message().content()).isPresent();
            assertThat(second.choices().getFirst().message().toolCalls().orElse(List.of())).isEmpty();
        } finally {
            client.close();
        }
    }
}
