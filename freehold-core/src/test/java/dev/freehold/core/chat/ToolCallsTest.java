package dev.freehold.core.chat;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.freehold.core.grammar.Grammar;
import dev.freehold.core.grammar.GrammarMatcher;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ToolCallsTest {
    static final ObjectMapper M = new ObjectMapper();

    static List<ToolCalls.Tool> tools() throws Exception {
        return List.of(new ToolCalls.Tool("get_weather", "Weather", M.readTree("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}")),
                new ToolCalls.Tool("add", null, M.readTree("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"integer\"}},\"required\":[\"a\",\"b\"]}")));
    }

    static boolean accepts(String gbnf, String text) {
        GrammarMatcher m = new GrammarMatcher(Grammar.parse(gbnf));
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        if (!m.accepts(b)) return false;
        m.accept(b);
        return m.isComplete();
    }

    @Test
    void eachFormatsGrammarAcceptsItsCallsAndTheParserReadsThem() throws Exception {
        String hermes = "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 3}}\n</tool_call>";
        String llama = "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}";
        String mistral = "[TOOL_CALLS] [{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}, {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}]";
        assertThat(accepts(ToolCalls.grammar(ToolCalls.Format.HERMES, tools(), false), hermes)).isTrue();
        assertThat(accepts(ToolCalls.grammar(ToolCalls.Format.HERMES, tools(), true), hermes + "\n" + hermes)).isTrue();
        assertThat(accepts(ToolCalls.grammar(ToolCalls.Format.HERMES, tools(), false), hermes + "\n" + hermes)).isFalse();
        assertThat(accepts(ToolCalls.grammar(ToolCalls.Format.LLAMA3_JSON, tools(), false), llama)).isTrue();
        assertThat(accepts(ToolCalls.grammar(ToolCalls.Format.MISTRAL, tools(), true), mistral)).isTrue();
        // arguments that break the tool's schema, or an unknown tool, are outside the grammar
        assertThat(accepts(ToolCalls.grammar(ToolCalls.Format.HERMES, tools(), false), hermes.replace("\"b\": 3", "\"b\": \"x\""))).isFalse();
        assertThat(accepts(ToolCalls.grammar(ToolCalls.Format.LLAMA3_JSON, tools(), false), llama.replace("get_weather", "get_time"))).isFalse();

        var h = ToolCalls.parse(ToolCalls.Format.HERMES, "\n " + hermes, tools()).orElseThrow();
        assertThat(h.content()).isNull();
        assertThat(h.calls()).containsExactly(new ToolCalls.Call("add", "{\"a\":2,\"b\":3}"));
        // a call after text stays text (as streaming decides: the text was already sent)
        assertThat(ToolCalls.parse(ToolCalls.Format.HERMES, "Let me add.\n" + hermes, tools())).isEmpty();
        assertThat(ToolCalls.parse(ToolCalls.Format.LLAMA3_JSON, "<|python_tag|>" + llama, tools()).orElseThrow().calls())
                .containsExactly(new ToolCalls.Call("get_weather", "{\"city\":\"Oslo\"}"));
        assertThat(ToolCalls.parse(ToolCalls.Format.MISTRAL, mistral, tools()).orElseThrow().calls()).hasSize(2);
    }

    @Test
    void malformedOrUnknownCallsStayText() throws Exception {
        assertThat(ToolCalls.parse(ToolCalls.Format.HERMES, "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2", tools())).isEmpty();
        assertThat(ToolCalls.parse(ToolCalls.Format.HERMES, "<tool_call>{\"name\": \"rm\", \"arguments\": {}}</tool_call>", tools())).isEmpty();
        assertThat(ToolCalls.parse(ToolCalls.Format.HERMES, "<tool_call>{\"name\": \"add\", \"arguments\": {}}</tool_call> and more text", tools())).isEmpty();
        assertThat(ToolCalls.parse(ToolCalls.Format.LLAMA3_JSON, "Sure! {\"name\": \"add\"}", tools())).isEmpty();
        assertThat(ToolCalls.parse(ToolCalls.Format.LLAMA3_JSON, "{\"name\": \"add\", \"parameters\": 5}", tools())).isEmpty();
        assertThat(ToolCalls.parse(ToolCalls.Format.MISTRAL, "[TOOL_CALLS] not json", tools())).isEmpty();
        assertThat(ToolCalls.parse(ToolCalls.Format.HERMES, "just an answer", tools())).isEmpty();
    }

    @Test
    void formatsAreRecognisedFromTheShippedTemplates() throws Exception {
        var dir = dev.freehold.core.testing.SharedData.require("chat-templates");
        assertThat(ToolCalls.detect(java.nio.file.Files.readString(dir.resolve("qwen2.5-instruct.jinja")))).isEqualTo(ToolCalls.Format.HERMES);
        assertThat(ToolCalls.detect(java.nio.file.Files.readString(dir.resolve("llama-3.1-instruct.jinja")))).isEqualTo(ToolCalls.Format.LLAMA3_JSON);
        assertThat(ToolCalls.detect(java.nio.file.Files.readString(dir.resolve("mistral-7b-instruct-v0.3.jinja")))).isEqualTo(ToolCalls.Format.MISTRAL);
        assertThat(ToolCalls.templateRendersTools(java.nio.file.Files.readString(dir.resolve("chatml.jinja")))).isFalse();
    }

    /** Auto mode: free text stays free; a call, once its trigger is written, must follow the tools' grammar. */
    @Test
    void aLazyConstraintAppliesOnlyOnceTheTriggerIsWritten() throws Exception {
        String[] vocab = {" ", "<tool", "_call>", "\n", "{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}", "\n</tool_call>", "hello", "<b>"};
        byte[][] pieces = new byte[vocab.length][];
        for (int i = 0; i < vocab.length; i++) pieces[i] = vocab[i].getBytes(StandardCharsets.UTF_8);
        var trie = dev.freehold.core.grammar.TokenTrie.of(pieces);
        var grammar = Grammar.parse(ToolCalls.grammar(ToolCalls.Format.HERMES, tools(), false));
        java.util.Set<Integer> eog = java.util.Set.of(99);

        var call = new dev.freehold.core.sample.GrammarConstraint(grammar, trie, eog, ToolCalls.trigger(ToolCalls.Format.HERMES));
        call.accept(0);
        call.accept(1);
        assertThat(call.active()).as("'<tool' is only the start of the trigger").isFalse();
        call.accept(2);
        assertThat(call.active()).isTrue();
        assertThat(call.allows(6)).as("free text inside a call").isFalse();
        assertThat(call.allows(99)).as("no end before the call is complete").isFalse();
        assertThat(call.allows(3)).isTrue();
        call.accept(3);
        call.accept(4);
        call.accept(5);
        assertThat(call.isComplete()).isTrue();
        assertThat(call.allows(99)).isTrue();

        var text = new dev.freehold.core.sample.GrammarConstraint(grammar, trie, eog, ToolCalls.trigger(ToolCalls.Format.HERMES));
        text.accept(6);
        assertThat(text.active()).isFalse();
        assertThat(text.allows(7)).isTrue();
        text.accept(7);
        assertThat(text.allows(99)).isTrue();
        var html = new dev.freehold.core.sample.GrammarConstraint(grammar, trie, eog, ToolCalls.trigger(ToolCalls.Format.HERMES));
        html.accept(7); // "<b>": starts like the trigger, then is not it
        assertThat(html.active()).isFalse();
        assertThat(html.allows(6)).isTrue();
    }
}
