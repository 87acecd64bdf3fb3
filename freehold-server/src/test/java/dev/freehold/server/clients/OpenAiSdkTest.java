package dev.freehold.server.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import dev.freehold.server.TestServer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK pointed at Freehold: only the base URL changes. */
class OpenAiSdkTest {
    static TestServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.random();
        client = OpenAIOkHttpClient.builder().baseUrl(server.base() + "/v1").apiKey("not-needed").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    static ChatCompletionCreateParams.Builder params() {
        return ChatCompletionCreateParams.builder().model("random").addSystemMessage("You are terse.").addUserMessage("Tell me a story.");
    }

    @Test
    void chatCompletionWithUsage() {
        ChatCompletion c = client.chat().completions().create(params().maxCompletionTokens(12).temperature(0.0).build());
        assertThat(c.id()).startsWith("chatcmpl-");
        assertThat(c.model()).isEqualTo("random");
        assertThat(c.choices()).hasSize(1);
        assertThat(c.choices().getFirst().message().content()).isPresent();
        assertThat(c.choices().getFirst().finishReason().asString()).isIn("stop", "length");
        assertThat(c.usage()).isPresent();
        assertThat(c.usage().get().completionTokens()).isBetween(1L, 12L);
        assertThat(c.usage().get().totalTokens()).isEqualTo(c.usage().get().promptTokens() + c.usage().get().completionTokens());
    }

    @Test
    void streamingGivesTheSameTextAndUsageAtTheEnd() {
        ChatCompletionCreateParams p = params().maxCompletionTokens(16).temperature(0.0)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        String whole = client.chat().completions().create(p).choices().getFirst().message().content().orElse("");
        StringBuilder text = new StringBuilder();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
            s.stream().forEach(ch -> {
                chunks.add(ch);
                ch.choices().forEach(c -> c.delta().content().ifPresent(text::append));
            });
        }
        assertThat(text.toString()).isEqualTo(whole);
        assertThat(chunks.stream().map(ChatCompletionChunk::id).distinct()).hasSize(1);
        ChatCompletionChunk last = chunks.getLast();
        assertThat(last.choices()).isEmpty();
        assertThat(last.usage()).isPresent();
        assertThat(last.usage().get().completionTokens()).isBetween(1L, 16L);
    }

    @Test
    void aSeedReproducesSampledText() {
        ChatCompletionCreateParams p = params().maxCompletionTokens(20).temperature(1.0).seed(99L).build();
        String a = client.chat().completions().create(p).choices().getFirst().message().content().orElse("");
        String b = client.chat().completions().create(p).choices().getFirst().message().content().orElse("");
        assertThat(a).isEqualTo(b).isNotEmpty();
    }

    @Test
    void stopEndsTheAnswerBeforeTheStopString() {
        String free = client.chat().completions().create(params().maxCompletionTokens(30).temperature(0.0).build())
                .choices().getFirst().message().content().orElse("");
        String stop = free.substring(4, 6);
        ChatCompletion c = client.chat().completions().create(params().maxCompletionTokens(30).temperature(0.0).stop(stop).build());
        assertThat(c.choices().getFirst().message().content().orElse("")).isEqualTo(free.substring(0, free.indexOf(stop)));
        assertThat(c.choices().getFirst().finishReason().asString()).isEqualTo("stop");
    }

    @Test
    void legacyCompletions() {
        Completion c = client.completions().create(CompletionCreateParams.builder().model("random").prompt("Once").maxTokens(5L)
                .temperature(0.0).build());
        assertThat(c.choices()).hasSize(1);
        assertThat(c.usage().get().completionTokens()).isBetween(1L, 5L);
    }

    @Test
    void errorsArriveAsTheSdksExceptions() {
        assertThatThrownBy(() -> client.chat().completions().create(params().temperature(5.0).build()))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("temperature");
    }
}
