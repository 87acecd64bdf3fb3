package dev.freehold.server;

import dev.freehold.core.chat.TemplateException;
import dev.freehold.core.sample.SamplingParams;
import dev.freehold.core.tokenizer.Tokenizer;
import dev.freehold.core.tokenizer.TokenizerException;
import dev.freehold.server.generation.Generation;
import dev.freehold.server.generation.GenerationRequest;
import dev.freehold.server.generation.Scheduler;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Between the API adapters and the schedulers: finds the model, renders and tokenizes the prompt, checks it against
 * the context and the server's limits, and queues one generation per choice.
 */
public final class GenerationService implements AutoCloseable {
    private final Map<String, ServedModel> models;
    private final Limits limits;

    /** Bounds on what one request may ask for. */
    public record Limits(int maxTokens, int maxMessages, int maxChoices) {
    }

    /** The queued choices of one request, sharing a prompt; with tools, the format their calls come in. */
    public record Started(ServedModel model, int[] prompt, List<Generation> choices, GenerationRequest.ToolUse tools,
                          dev.freehold.core.chat.ToolCalls.Format toolFormat) {
        public void cancel() {
            choices.forEach(Generation::cancel);
        }

        /** With tools offered: whether text so far is empty or starts like a call in this format (hold it back). */
        public boolean mayBecomeCall(CharSequence text) {
            if (toolFormat == null) return false;
            String t = text.toString().stripLeading();
            String trigger = dev.freehold.core.chat.ToolCalls.trigger(toolFormat);
            return t.length() < trigger.length() ? trigger.startsWith(t) : t.startsWith(trigger);
        }
    }

    public GenerationService(Collection<ServedModel> models, Limits limits) {
        this.models = new LinkedHashMap<>();
        for (ServedModel m : models) this.models.put(m.name(), m);
        this.limits = limits;
    }

    public Collection<ServedModel> models() {
        return models.values();
    }

    public Limits limits() {
        return limits;
    }

    /** The model by name; with one model served, an empty name means it (as single-model servers do). */
    public ServedModel model(String name) {
        if ((name == null || name.isEmpty()) && models.size() == 1) return models.values().iterator().next();
        if (name == null || name.isEmpty()) throw ApiException.invalid("model", "'model' is required");
        ServedModel m = models.get(name);
        if (m == null && !name.contains(":")) m = models.get(name + ":latest");
        if (m == null && name.endsWith(":latest")) m = models.get(name.substring(0, name.length() - ":latest".length()));
        if (m == null) throw ApiException.modelNotFound(name);
        return m;
    }

    /** The prompt's token ids, as the model will see them. */
    public int[] promptTokens(ServedModel model, GenerationRequest.Prompt prompt) {
        return promptTokens(model, prompt, null);
    }

    /** With tools active, the template renders them (or a system message describes them, for templates that cannot). */
    public int[] promptTokens(ServedModel model, GenerationRequest.Prompt prompt, GenerationRequest.ToolUse tools) {
        Tokenizer tok = model.engine().tokenizer();
        try {
            return switch (prompt) {
                case GenerationRequest.Chat chat -> {
                    if (chat.messages().isEmpty()) throw ApiException.invalid("messages", "'messages' must not be empty");
                    if (chat.messages().size() > limits.maxMessages()) {
                        throw ApiException.invalid("messages", "at most %d messages per request, got %d"
                                .formatted(limits.maxMessages(), chat.messages().size()));
                    }
                    var template = model.chatTemplate();
                    List<dev.freehold.core.chat.ChatTemplate.Message> messages = chat.messages();
                    Map<String, Object> vars = Map.of();
                    if (tools != null && tools.active()) {
                        if (dev.freehold.core.chat.ToolCalls.templateRendersTools(template.source())) {
                            List<Object> list = new ArrayList<>();
                            for (var t : tools.tools()) list.add(JSON.convertValue(dev.freehold.core.chat.ToolCalls.toolJson(t), Map.class));
                            vars = dev.freehold.core.chat.ToolCalls.templateVariables(template.source(), list);
                        } else {
                            messages = withToolInstructions(messages, dev.freehold.core.chat.ToolCalls.instructions(tools.tools()));
                        }
                    }
                    String text = template.renderPrompt(messages, true, vars);
                    yield tok.encode(text, true, true);
                }
                case GenerationRequest.Text t -> {
                    int[] ids = tok.encode(t.text(), t.addBos(), t.parseSpecial());
                    if (ids.length == 0) {
                        int bos = tok.vocabulary().bos();
                        if (bos < 0) throw ApiException.invalid("prompt", "the prompt is empty and the model has no BOS token to start from");
                        ids = new int[] {bos};
                    }
                    yield ids;
                }
                case GenerationRequest.Tokens t -> {
                    if (t.ids().length == 0) throw ApiException.invalid("prompt", "the prompt is empty");
                    for (int id : t.ids()) {
                        if (id < 0 || id >= model.engine().config().vocab()) {
                            throw ApiException.invalid("prompt", "token id %d is outside the vocabulary (0 to %d)"
                                    .formatted(id, model.engine().config().vocab() - 1));
                        }
                    }
                    yield t.ids().clone();
                }
            };
        } catch (TemplateException e) {
            throw ApiException.invalid("messages", "the chat template failed: " + e.getMessage());
        } catch (TokenizerException e) {
            throw ApiException.invalid(prompt instanceof GenerationRequest.Chat ? "messages" : "prompt", e.getMessage());
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** The tool description joined to the system message (or as a new one first). */
    private static List<dev.freehold.core.chat.ChatTemplate.Message> withToolInstructions(
            List<dev.freehold.core.chat.ChatTemplate.Message> messages, String instructions) {
        List<dev.freehold.core.chat.ChatTemplate.Message> out = new ArrayList<>(messages);
        if (!out.isEmpty() && out.getFirst().role().equals("system")) {
            var first = out.getFirst();
            out.set(0, new dev.freehold.core.chat.ChatTemplate.Message("system", first.content() + "\n\n" + instructions, first.extra()));
        } else {
            out.addFirst(new dev.freehold.core.chat.ChatTemplate.Message("system", instructions));
        }
        return out;
    }

    /** Queues the request's choices; all or none (429 when the queue is full). */
    public Started start(GenerationRequest r) {
        ServedModel model = model(r.model());
        if (r.choices() > limits.maxChoices()) {
            throw ApiException.invalid("n", "at most %d choices per request, got %d".formatted(limits.maxChoices(), r.choices()));
        }
        if (r.maxTokens() > limits.maxTokens()) {
            throw ApiException.invalid("max_tokens", "at most %d tokens per request, got %d".formatted(limits.maxTokens(), r.maxTokens()));
        }
        int[] prompt = promptTokens(model, r.prompt(), r.tools());
        dev.freehold.core.chat.ToolCalls.Format toolFormat = null;
        String grammarText = r.grammar();
        String trigger = null;
        if (r.tools() != null && r.tools().active()) {
            toolFormat = dev.freehold.core.chat.ToolCalls.detect(model.chatTemplate().source());
            var offered = r.tools().forced() && !r.tools().choice().equals("required")
                    ? r.tools().tools().stream().filter(t -> t.name().equals(r.tools().choice())).toList() : r.tools().tools();
            String calls;
            try {
                calls = dev.freehold.core.chat.ToolCalls.grammar(toolFormat, offered,
                        r.tools().parallel() && !(r.tools().forced() && !r.tools().choice().equals("required")));
            } catch (dev.freehold.core.grammar.GrammarException e) {
                throw ApiException.invalid("tools", "a tool's parameters cannot be used: " + e.getMessage());
            }
            if (r.tools().forced()) {
                grammarText = calls;
            } else if (grammarText == null) {
                // auto: free text, but a call, once begun, follows the tools' grammar
                grammarText = calls;
                trigger = dev.freehold.core.chat.ToolCalls.trigger(toolFormat);
            }
        }
        int ctx = model.scheduler().options().contextSize();
        if (prompt.length >= ctx) {
            throw new ApiException(400, "invalid_request_error", r.prompt() instanceof GenerationRequest.Chat ? "messages" : "prompt",
                    "context_length_exceeded", "The prompt has %d tokens; this model's context holds %d. Shorten the prompt."
                            .formatted(prompt.length, ctx));
        }
        // No limit asked: until the context is full, within the server's bound.
        int maxTokens = r.maxTokens() < 0 ? Math.min(ctx - prompt.length, limits.maxTokens()) : r.maxTokens();
        dev.freehold.core.grammar.Grammar grammar = null;
        if (grammarText != null) {
            try {
                grammar = dev.freehold.core.grammar.Grammar.parse(grammarText);
            } catch (dev.freehold.core.grammar.GrammarException e) {
                throw ApiException.invalid("grammar", "the grammar is not valid: " + e.getMessage());
            }
        }
        List<Generation> choices = new ArrayList<>(r.choices());
        try {
            for (int i = 0; i < r.choices(); i++) {
                SamplingParams s = r.sampling();
                SamplingParams si = i == 0 ? s : new SamplingParams(s.temperature(), s.topK(), s.topP(), s.minP(), s.typicalP(),
                        s.repeatPenalty(), s.penaltyLastN(), s.presencePenalty(), s.frequencyPenalty(), s.seed() + i);
                choices.add(model.scheduler().submit(prompt, si, r.logitBias(), maxTokens, r.stop(), r.topLogprobs(), grammar, trigger));
            }
        } catch (Scheduler.Rejected e) {
            choices.forEach(Generation::cancel);
            throw new ApiException(429, "rate_limit_exceeded", null, "rate_limit_exceeded", "The server is busy: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            choices.forEach(Generation::cancel);
            throw ApiException.invalid(null, e.getMessage());
        }
        return new Started(model, prompt, choices, r.tools(), toolFormat);
    }

    @Override
    public void close() {
        for (ServedModel m : models.values()) m.close();
    }
}
