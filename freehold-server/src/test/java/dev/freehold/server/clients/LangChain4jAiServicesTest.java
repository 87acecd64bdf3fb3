package dev.freehold.server.clients;

import static org.assertj.core.api.Assertions.assertThat;

import dev.freehold.server.TestModels;
import dev.freehold.server.TestServer;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.service.AiServices;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * LangChain4j AI Services with a {@code @Tool} method and a structured return type, over the OpenAI API, against a
 * random-weight model with a tool-capable template. A random model has no judgement about when to call a tool, so a
 * thin ChatModel wrapper stands in for it: the turn after the user's message requires a tool call, the turn after a
 * tool result requires none. Everything else is the real client path: tool specifications, the call and its
 * arguments, the tool's result in the history, the final answer in the return type's JSON schema.
 */
class LangChain4jAiServicesTest {

    public static final class Calculator {
        final List<String> calls = new ArrayList<>();

        @Tool("Adds two integers")
        public long add(long a, long b) {
            calls.add(a + "+" + b);
            return a + b;
        }
    }

    /** The structured answer. */
    public record Answer(long value, boolean confident) {
    }

    interface Assistant {
        Answer ask(String question);
    }

    /** Chooses the tool choice a sensible model would make; forwards everything else unchanged. */
    record Decisive(OpenAiChatModel delegate) implements ChatModel {
        @Override
        public ChatResponse doChat(ChatRequest request) {
            boolean afterTool = request.messages().getLast() instanceof ToolExecutionResultMessage;
            boolean hasTools = request.toolSpecifications() != null && !request.toolSpecifications().isEmpty();
            ChatRequestParameters p = hasTools
                    ? request.parameters().overrideWith(ChatRequestParameters.builder().toolChoice(afterTool ? ToolChoice.NONE : ToolChoice.REQUIRED).build())
                    : request.parameters();
            return delegate.chat(ChatRequest.builder().messages(request.messages()).parameters(p).build());
        }

        @Override
        public Set<Capability> supportedCapabilities() {
            return delegate.supportedCapabilities();
        }

        @Override
        public ChatRequestParameters defaultRequestParameters() {
            return delegate.defaultRequestParameters();
        }
    }

    @Test
    void aToolIsCalledItsResultGoesBackAndTheStructuredAnswerComesOut() throws Exception {
        try (TestServer server = new TestServer(Map.of("tools", TestModels.randomLlamaWithTools()), 2, 4, 2048, Set.of(), 1 << 20)) {
            OpenAiChatModel openai = OpenAiChatModel.builder().baseUrl(server.base() + "/v1").apiKey("unused").modelName("tools")
                    .maxTokens(150).seed(7).parallelToolCalls(false).strictJsonSchema(true)
                    .supportedCapabilities(Capability.RESPONSE_FORMAT_JSON_SCHEMA).build();
            Calculator calculator = new Calculator();
            Assistant assistant = AiServices.builder(Assistant.class).chatModel(new Decisive(openai)).tools(calculator).build();
            Answer answer = assistant.ask("What is 2 + 3?");
            System.out.printf("AI Services: tool calls %s, answer %s%n", calculator.calls, answer);
            assertThat(calculator.calls).as("the tool ran once, with integer arguments").hasSize(1);
            assertThat(answer).isNotNull();
        }
    }
}
