package dev.freehold.server.clients;

import static org.assertj.core.api.Assertions.assertThat;

import dev.freehold.server.TestServer;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** LangChain4j's OpenAI and Ollama chat models pointed at Freehold. */
class LangChain4jTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.random();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static ChatRequest request() {
        return ChatRequest.builder().messages(SystemMessage.from("Be brief."), UserMessage.from("What is a llama?")).build();
    }

    static String stream(dev.langchain4j.model.chat.StreamingChatModel model) throws Exception {
        StringBuilder partial = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat(request(), new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String text) {
                partial.append(text);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse r = done.get(2, TimeUnit.MINUTES);
        assertThat(r.aiMessage().text()).isEqualTo(partial.toString());
        return partial.toString();
    }

    @Test
    void openAiChatModelAndStreamingModelAgree() throws Exception {
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(server.base() + "/v1").apiKey("unused").modelName("random")
                .temperature(0.0).maxTokens(12).build();
        ChatResponse r = model.chat(request());
        assertThat(r.aiMessage().text()).isNotNull();
        assertThat(r.tokenUsage().outputTokenCount()).isBetween(1, 12);
        assertThat(r.finishReason()).isNotNull();
        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(server.base() + "/v1").apiKey("unused")
                .modelName("random").temperature(0.0).maxTokens(12).build();
        assertThat(stream(streaming)).isEqualTo(r.aiMessage().text());
    }

    @Test
    void ollamaChatModelAndStreamingModelAgree() throws Exception {
        OllamaChatModel model = OllamaChatModel.builder().baseUrl(server.base()).modelName("random").temperature(0.0).numPredict(12).build();
        ChatResponse r = model.chat(request());
        assertThat(r.aiMessage().text()).isNotNull();
        assertThat(r.tokenUsage().outputTokenCount()).isBetween(1, 12);
        OllamaStreamingChatModel streaming = OllamaStreamingChatModel.builder().baseUrl(server.base()).modelName("random")
                .temperature(0.0).numPredict(12).build();
        assertThat(stream(streaming)).isEqualTo(r.aiMessage().text());
    }
}
