package dev.freehold.core.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.freehold.core.testing.LlamaCppOracle;
import dev.freehold.core.testing.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The 16 official chat templates, rendered by Freehold and by llama.cpp's Jinja engine (de.kherud:llama 4.2.0 with
 * Jinja on) for the same conversations: the prompt text must be identical, and a conversation a template refuses
 * must be refused by both. Like llama.cpp, the prompt omits a leading BOS (the tokenizer adds it) and templates
 * without a system role get the system text at the start of the first user message. The binding returns non-ASCII
 * text garbled, so the non-ASCII conversation is checked on our side only.
 */
class ChatTemplateTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String[] CONVERSATIONS = {
            "[{\"role\":\"user\",\"content\":\"Hello\"}]",
            "[{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},{\"role\":\"user\",\"content\":\"What is 2+2?\"}]",
            "[{\"role\":\"system\",\"content\":\"Answer briefly.\"},{\"role\":\"user\",\"content\":\"What is 2+2?\"},"
                    + "{\"role\":\"assistant\",\"content\":\"4\"},{\"role\":\"user\",\"content\":\"And 3+3?\"}]",
            "[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello! How can I help?\"},"
                    + "{\"role\":\"user\",\"content\":\"Tell me a joke.\"}]",
            "[{\"role\":\"user\",\"content\":\"  spaces \\\"quoted\\\"\\nsecond line  \"}]",
            "[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"b\"}]"};

    @Test
    void everyTemplateRendersEveryConversationAsLlamaCppDoes() throws Exception {
        Path dir = SharedData.require("chat-templates");
        Path model = SharedData.require("llama2c-stories260K/stories260K.gguf");
        List<String> failures = new ArrayList<>();
        int compared = 0;
        List<Path> templates;
        try (Stream<Path> s = Files.list(dir)) {
            templates = s.filter(p -> p.toString().endsWith(".jinja")).sorted().toList();
        }
        assertThat(templates).hasSize(16);
        List<JsonNode> conversations = new ArrayList<>();
        for (String c : CONVERSATIONS) conversations.add(JSON.readTree(c));
        for (Path t : templates) {
            String source = Files.readString(t);
            List<JsonNode> theirs = LlamaCppOracle.renderTemplate(model, source, conversations);
            ChatTemplate ours = new ChatTemplate(source, "<s>", "</s>");
            for (int i = 0; i < conversations.size(); i++) {
                List<ChatTemplate.Message> messages = new ArrayList<>();
                for (JsonNode m : conversations.get(i)) messages.add(new ChatTemplate.Message(m.get("role").asText(), m.get("content").asText()));
                String mine;
                try {
                    mine = ours.renderPrompt(messages, true, Map.of());
                } catch (TemplateException e) {
                    mine = "ERROR " + e.getMessage();
                }
                JsonNode ref = theirs.get(i);
                compared++;
                if (ref.has("error")) {
                    if (!mine.startsWith("ERROR")) failures.add("%s #%d: llama.cpp refused (%s), we rendered %s".formatted(
                            t.getFileName(), i, ref.get("error").asText(), JSON.writeValueAsString(mine)));
                } else if (!ref.get("text").asText().equals(mine)) {
                    failures.add("%s #%d:%n  llama.cpp %s%n  Freehold  %s".formatted(t.getFileName(), i,
                            JSON.writeValueAsString(ref.get("text").asText()), JSON.writeValueAsString(mine)));
                }
            }
        }
        assertThat(failures).as("%d of %d renderings differ", failures.size(), compared).isEmpty();
    }

    @Test
    void nonAsciiContentPassesThroughUnchanged() throws Exception {
        String content = "Ünïcödé 🦙 中文 \"quoted\"";
        for (String name : List.of("llama-3.1-instruct", "qwen2.5-instruct", "gemma-2-it", "mistral-7b-instruct-v0.3")) {
            ChatTemplate t = new ChatTemplate(Files.readString(SharedData.require("chat-templates/" + name + ".jinja")), "<s>", "</s>");
            assertThat(t.renderPrompt(List.of(new ChatTemplate.Message("user", content)), true, Map.of())).as(name).contains(content);
        }
    }

    @Test
    void unsupportedConstructsAndTemplateErrorsAreNamed() {
        assertThatThrownBy(() -> JinjaTemplate.compile("{% macro m() %}x{% endmacro %}")).isInstanceOf(TemplateException.class)
                .hasMessageContaining("'{% macro %}' is not supported");
        assertThatThrownBy(() -> JinjaTemplate.compile("{{ x | frobnicate }}").render(Map.of())).hasMessageContaining("filter 'frobnicate'");
        assertThatThrownBy(() -> JinjaTemplate.compile("{% if x %}never closed")).hasMessageContaining("expected {% endif %}");
        assertThatThrownBy(() -> JinjaTemplate.compile("{{ raise_exception('Roles must alternate') }}").render(Map.of()))
                .hasMessageContaining("Roles must alternate");
        assertThatThrownBy(() -> JinjaTemplate.compile("{{ (1 + }}")).hasMessageContaining("line 1");
    }

    @Test
    void pythonSemanticsTheTemplatesRelyOn() {
        assertThat(render("{{ [1, 2.5, 'a', none, true] | tojson }}")).isEqualTo("[1, 2.5, \"a\", null, true]");
        assertThat(render("{{ {'a': {'b': [1]}} | tojson(indent=2) }}")).isEqualTo("{\n  \"a\": {\n    \"b\": [\n      1\n    ]\n  }\n}");
        assertThat(render("{{ 'é' | tojson }}")).isEqualTo("\"é\"");
        assertThat(render("{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}")).isEqualTo("3");
        assertThat(render("{% for x in [1,2,3] if x != 2 %}{{ loop.index0 }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}"))
                .isEqualTo("01,13");
        assertThat(render("{{ 'abc'[1:] }}{{ [1,2,3][:-1] }}{{ [1,2,3][-1] }}")).isEqualTo("bc[1, 2]3");
        assertThat(render("{{ ' a b '.split() }}{{ 'x,y'.split(',') }}{{ '  t  '.strip() }}")).isEqualTo("['a', 'b']['x', 'y']t");
        assertThat(render("{{ 1 if none else 2 }}{{ 'x' is string }}{{ {} is mapping }}{{ 'a' in {'a': 1} }}")).isEqualTo("2TrueTrueTrue");
        assertThat(render("{{ [{'r':'u'},{'r':'a'}] | selectattr('r', 'equalto', 'u') | list | length }}")).isEqualTo("1");
        assertThat(render("  {% if true %}\n  yes\n  {% endif %}\nend")).isEqualTo("  yes\nend");
        assertThat(render("{%- for i in [1,2] -%}\n {{ i }} \n{%- endfor -%}")).isEqualTo("12");
        assertThat(render("{{ 7 // 2 }} {{ 7 / 2 }} {{ 2 * 3 }} {{ 'ab' ~ 1 }}")).isEqualTo("3 3.5 6 ab1");
    }

    private static String render(String source) {
        return JinjaTemplate.compile(source).render(Map.of());
    }
}
