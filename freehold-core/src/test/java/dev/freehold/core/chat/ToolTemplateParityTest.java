package dev.freehold.core.chat;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.freehold.core.testing.LlamaCppOracle;
import dev.freehold.core.testing.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The tool-capable templates (Qwen2.5, Llama 3.1, Mistral v0.3) render tools, assistant tool calls and tool results as
 * llama.cpp renders them, given what the server gives them: tools as {@link ToolCalls#toolJson}, call arguments as
 * objects (OpenAI sends strings; llama.cpp parses them the same way).
 */
class ToolTemplateParityTest {
    static final ObjectMapper M = new ObjectMapper();

    @Test
    void toolConversationsRenderAsLlamaCppRendersThem() throws Exception {
        Path model = SharedData.require("llama2c-stories260K/stories260K.gguf");
        var weather = new ToolCalls.Tool("get_weather", "Current weather in a city",
                M.readTree("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}"));
        JsonNode tools = M.createArrayNode().add(ToolCalls.toolJson(weather));
        String args = "{\"city\":\"Oslo\"}";
        // OpenAI's shape for llama.cpp (arguments a string)
        String openAi = "[{\"role\":\"user\",\"content\":\"Weather in Oslo?\"},"
                + "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"abcDEF123\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":"
                + M.writeValueAsString(args) + "}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"abcDEF123\",\"content\":\"-3 degrees\"},"
                + "{\"role\":\"user\",\"content\":\"Thanks. And in Rome?\"}]";
        List<JsonNode> conversations = List.of(M.readTree("[{\"role\":\"user\",\"content\":\"Weather in Oslo?\"}]"), M.readTree(openAi));
        List<String> failures = new ArrayList<>();
        int compared = 0;
        for (String name : List.of("qwen2.5-instruct", "llama-3.1-instruct", "mistral-7b-instruct-v0.3")) {
            String source = Files.readString(SharedData.require("chat-templates/" + name + ".jinja"));
            List<JsonNode> theirs = LlamaCppOracle.renderTemplate(model, source, conversations, tools);
            ChatTemplate ours = new ChatTemplate(source, "<s>", "</s>");
            List<Object> toolList = List.of(M.convertValue(ToolCalls.toolJson(weather), Map.class));
            for (int i = 0; i < conversations.size(); i++) {
                List<ChatTemplate.Message> messages = new ArrayList<>();
                for (JsonNode m : conversations.get(i)) {
                    Map<String, Object> extra = new LinkedHashMap<>();
                    if (m.has("tool_call_id")) extra.put("tool_call_id", m.get("tool_call_id").asText());
                    if (m.has("tool_calls")) {
                        List<Object> calls = new ArrayList<>();
                        for (JsonNode c : m.get("tool_calls")) {
                            ObjectNode copy = c.deepCopy();
                            ((ObjectNode) copy.get("function")).set("arguments", M.readTree(c.get("function").get("arguments").asText()));
                            calls.add(M.convertValue(copy, Map.class));
                        }
                        extra.put("tool_calls", calls);
                    }
                    messages.add(new ChatTemplate.Message(m.get("role").asText(), m.get("content").asText(), extra));
                }
                String mine;
                try {
                    mine = ours.renderPrompt(messages, true, ToolCalls.templateVariables(source, toolList));
                } catch (TemplateException e) {
                    mine = "ERROR " + e.getMessage();
                }
                JsonNode ref = theirs.get(i);
                compared++;
                if (ref.has("error")) {
                    if (!mine.startsWith("ERROR")) failures.add(name + " #" + i + ": llama.cpp refused (" + ref.get("error").asText() + "), we rendered " + mine);
                } else if (!ref.get("text").asText().equals(mine)) {
                    failures.add("%s #%d:%n  llama.cpp %s%n  Freehold  %s".formatted(name, i, M.writeValueAsString(ref.get("text").asText()),
                            M.writeValueAsString(mine)));
                }
            }
        }
        System.out.printf("tool conversations: %d renderings compared with llama.cpp%n", compared);
        assertThat(failures).isEmpty();
    }
}
