package dev.freehold.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.freehold.core.chat.ChatTemplate;
import dev.freehold.core.chat.ChatTemplates;
import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.infer.Engine;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.sample.Sampler;
import dev.freehold.core.sample.SamplingParams;
import dev.freehold.core.tokenizer.Tokenizers;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ChatCliTest {
    static Path model() {
        return CliTest.stories().resolve("stories260K.gguf");
    }

    @Test
    void oneTurnWithABuiltInTemplate() {
        CliTest.Result r = CliTest.run("chat", "-m", model().toString(), "--chat-template", "chatml", "-p", "Once upon a time",
                "-n", "20", "--temperature", "0");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().strip()).isNotEmpty();
        CliTest.Result none = CliTest.run("chat", "-m", model().toString(), "-p", "hi");
        assertThat(none.code()).isEqualTo(2);
        assertThat(none.err()).contains("no chat template").contains("chatml");
        assertThat(CliTest.run("chat", "-m", model().toString(), "--chat-template", "klingon", "-p", "hi").err())
                .contains("no built-in chat template 'klingon'");
    }

    @Test
    void reusingTheCachedPrefixGivesTheSameAnswerAsStartingAfresh() throws Exception {
        ChatTemplate template;
        try (GgufFile f = GgufFile.open(model())) {
            template = ChatTemplates.forModel(f.metadata(), Tokenizers.fromGguf(f), "chatml");
        }
        try (Engine engine = Engine.load(model(), new EngineOptions(2, EngineOptions.KvCacheType.F16))) {
            ChatCommand.Conversation conv = new ChatCommand.Conversation(engine, template, 512, "Tell stories.");
            Sampler greedy = new Sampler(SamplingParams.greedy());
            String first = conv.answer("Once upon a time", 30, greedy, s -> { }, () -> false);
            String second = conv.answer("And then?", 30, greedy, s -> { }, () -> false);
            // A fresh conversation replaying the same history must answer the second turn identically.
            ChatCommand.Conversation fresh = new ChatCommand.Conversation(engine, template, 512, "Tell stories.");
            var m = fresh.getClass().getDeclaredField("messages");
            m.setAccessible(true);
            @SuppressWarnings("unchecked")
            java.util.List<ChatTemplate.Message> messages = (java.util.List<ChatTemplate.Message>) m.get(fresh);
            messages.add(new ChatTemplate.Message("user", "Once upon a time"));
            messages.add(new ChatTemplate.Message("assistant", first));
            assertThat(fresh.answer("And then?", 30, greedy, s -> { }, () -> false)).isEqualTo(second);
        }
    }

    @Test
    void aLongConversationDropsItsOldestTurnsAndAnOverlongMessageIsRefused() throws Exception {
        ChatTemplate template;
        try (GgufFile f = GgufFile.open(model())) {
            template = ChatTemplates.forModel(f.metadata(), Tokenizers.fromGguf(f), "chatml");
        }
        try (Engine engine = Engine.load(model(), new EngineOptions(2, EngineOptions.KvCacheType.F16))) {
            ChatCommand.Conversation conv = new ChatCommand.Conversation(engine, template, 320, "Tell stories.");
            Sampler greedy = new Sampler(SamplingParams.greedy());
            for (int turn = 0; turn < 6; turn++) {
                String answer = conv.answer("Tell me about the little dog and the big cat, turn " + turn, 12, greedy, s -> { }, () -> false);
                assertThat(answer).isNotEmpty();
            }
            assertThat(conv.droppedMessages()).isPositive();
            String tooLong = "once upon a time ".repeat(100);
            assertThatThrownBy(() -> conv.answer(tooLong, 12, greedy, s -> { }, () -> false))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the context holds 320");
            // and the conversation goes on afterwards
            assertThat(conv.answer("And then?", 8, greedy, s -> { }, () -> false)).isNotNull();
        }
    }
}
