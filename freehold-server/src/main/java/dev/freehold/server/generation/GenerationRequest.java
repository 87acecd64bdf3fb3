package dev.freehold.server.generation;

import dev.freehold.core.chat.ChatTemplate;
import dev.freehold.core.sample.SamplingParams;
import java.util.List;
import java.util.Map;

/**
 * The one internal request model: what the OpenAI and Ollama adapters translate their JSON into. It says what to
 * generate, not how the engine does it.
 *
 * @param model       the served model's name
 * @param prompt      a conversation to render with the model's chat template, or text to complete
 * @param sampling    the sampler's settings; its seed is the first choice's, choice i uses seed + i
 * @param logitBias   token id to bias added to its logit
 * @param maxTokens   tokens to generate at most (the context may end it sooner); -1: until the context is full
 * @param stop        stop strings, never part of the output
 * @param topLogprobs -1 for no log-probabilities; 0 to 20 for the chosen token's and that many alternatives
 * @param choices     independent completions of the same prompt (OpenAI's {@code n})
 * @param grammar     GBNF the output must follow (from a JSON schema, JSON mode or given directly), or null
 * @param tools       tools the model may call, or null
 */
public record GenerationRequest(String model, Prompt prompt, SamplingParams sampling, Map<Integer, Float> logitBias,
                                int maxTokens, List<String> stop, int topLogprobs, int choices, String grammar, ToolUse tools) {

    public GenerationRequest(String model, Prompt prompt, SamplingParams sampling, Map<Integer, Float> logitBias,
                             int maxTokens, List<String> stop, int topLogprobs, int choices) {
        this(model, prompt, sampling, logitBias, maxTokens, stop, topLogprobs, choices, null, null);
    }

    public GenerationRequest(String model, Prompt prompt, SamplingParams sampling, Map<Integer, Float> logitBias,
                             int maxTokens, List<String> stop, int topLogprobs, int choices, String grammar) {
        this(model, prompt, sampling, logitBias, maxTokens, stop, topLogprobs, choices, grammar, null);
    }

    /**
     * Tools offered to the model and how it may use them.
     *
     * @param choice   "none", "auto", "required", or the name of the one function it must call
     * @param parallel whether one answer may hold several calls
     */
    public record ToolUse(List<dev.freehold.core.chat.ToolCalls.Tool> tools, String choice, boolean parallel) {
        public ToolUse {
            tools = List.copyOf(tools);
        }

        /** Whether calls are forced (required, or a named function): decoding then follows the call grammar. */
        public boolean forced() {
            return !choice.equals("none") && !choice.equals("auto");
        }

        public boolean active() {
            return !choice.equals("none") && !tools.isEmpty();
        }
    }

    public GenerationRequest {
        logitBias = Map.copyOf(logitBias);
        stop = List.copyOf(stop);
        if (maxTokens < -1) throw new IllegalArgumentException("max tokens must be -1 (no limit) or more");
        if (topLogprobs < -1 || topLogprobs > 20) throw new IllegalArgumentException("top log-probabilities: 0 to 20");
        if (choices < 1) throw new IllegalArgumentException("at least one choice");
    }

    /** What the generation continues. */
    public sealed interface Prompt {
    }

    /** A conversation, rendered by the model's chat template with the assistant's turn opened. */
    public record Chat(List<ChatTemplate.Message> messages) implements Prompt {
        public Chat {
            messages = List.copyOf(messages);
        }
    }

    /**
     * Plain text to complete. {@code parseSpecial}: text such as {@code <|eot_id|>} becomes the special token (as
     * llama.cpp's completion endpoint does); {@code addBos}: start with the model's BOS if it uses one.
     */
    public record Text(String text, boolean addBos, boolean parseSpecial) implements Prompt {
    }

    /** Token ids given directly (OpenAI's completions accept arrays of ids). */
    public record Tokens(int[] ids) implements Prompt {
    }
}
