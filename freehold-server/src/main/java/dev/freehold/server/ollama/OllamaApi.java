package dev.freehold.server.ollama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.freehold.core.chat.ChatTemplate;
import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.sample.SamplingParams;
import dev.freehold.server.ApiException;
import dev.freehold.server.GenerationService;
import dev.freehold.server.JsonFields;
import dev.freehold.server.ServedModel;
import dev.freehold.server.StreamWriter;
import dev.freehold.server.generation.ChoiceStream;
import dev.freehold.server.generation.GenerationEvent;
import dev.freehold.server.generation.GenerationRequest;
import io.javalin.http.Context;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Ollama's API ({@code /api}): generate, chat, tags, show, ps and version, translated onto {@link GenerationRequest}
 * and back. Streams newline-delimited JSON by default; durations are in nanoseconds, as Ollama reports them.
 */
public final class OllamaApi {
    /** The Ollama API version these endpoints follow (clients check it for features). */
    public static final String VERSION = "0.6.0";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

    private final GenerationService service;
    private final dev.freehold.server.EmbeddingService embeddings;
    private final ObjectMapper json;

    public OllamaApi(GenerationService service, dev.freehold.server.EmbeddingService embeddings, ObjectMapper json) {
        this.service = service;
        this.embeddings = embeddings;
        this.json = json;
    }

    public void version(Context ctx) {
        ctx.json(json.createObjectNode().put("version", VERSION));
    }

    public void tags(Context ctx) {
        ObjectNode r = json.createObjectNode();
        ArrayNode models = r.putArray("models");
        for (ServedModel m : service.models()) {
            ObjectNode o = models.addObject().put("name", m.name()).put("model", m.name())
                    .put("modified_at", m.modifiedAt().toString()).put("size", m.sizeBytes()).put("digest", m.digest());
            o.set("details", details(m));
        }
        for (var m : embeddings.models()) {
            ObjectNode o = models.addObject().put("name", m.name()).put("model", m.name())
                    .put("modified_at", m.modifiedAt().toString()).put("size", 0).put("digest", "");
            ObjectNode d = o.putObject("details").put("parent_model", "").put("format", "gguf").put("family", "bert");
            d.putArray("families").add("bert");
            d.put("parameter_size", "").put("quantization_level", "F32");
        }
        ctx.json(r);
    }

    public void ps(Context ctx) {
        ObjectNode r = json.createObjectNode();
        ArrayNode models = r.putArray("models");
        for (ServedModel m : service.models()) {
            ObjectNode o = models.addObject().put("name", m.name()).put("model", m.name()).put("size", m.sizeBytes())
                    .put("digest", m.digest());
            o.set("details", details(m));
            // Served models stay loaded for the server's lifetime.
            o.put("expires_at", Instant.now().plus(3650, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS).toString()).put("size_vram", 0)
                    .put("context_length", m.scheduler().options().contextSize());
        }
        ctx.json(r);
    }

    public void show(Context ctx, JsonNode body) {
        String name = JsonFields.string(body, "model", JsonFields.string(body, "name", null));
        ServedModel m = service.model(name);
        ObjectNode r = json.createObjectNode();
        r.put("modelfile", "# Served by Freehold\nFROM " + m.engine().path().toAbsolutePath() + "\n");
        r.put("parameters", "");
        GgufValue template = m.engine().metadata().get("tokenizer.chat_template");
        r.put("template", template != null && template.value() instanceof String s ? s : "");
        r.set("details", details(m));
        ObjectNode info = r.putObject("model_info");
        String arch = m.details().family();
        info.put("general.architecture", arch);
        info.put("general.parameter_count", m.details().parameters());
        info.put(arch + ".context_length", m.engine().config().contextLength());
        info.put(arch + ".embedding_length", m.engine().config().dim());
        info.put(arch + ".block_count", m.engine().config().layers());
        info.put(arch + ".attention.head_count", m.engine().config().heads());
        info.put(arch + ".attention.head_count_kv", m.engine().config().kvHeads());
        info.put(arch + ".feed_forward_length", m.engine().config().ffn());
        info.put("tokenizer.ggml.vocab_size", m.engine().config().vocab());
        r.putArray("capabilities").add("completion");
        r.put("modified_at", m.modifiedAt().toString());
        ctx.json(r);
    }

    private ObjectNode details(ServedModel m) {
        ObjectNode d = json.createObjectNode().put("parent_model", "").put("format", "gguf").put("family", m.details().family());
        d.putArray("families").add(m.details().family());
        d.put("parameter_size", m.details().parameterSize()).put("quantization_level", m.details().quantization());
        return d;
    }

    // ------------------------------------------------------------------------------------------------ generate

    public void generate(Context ctx, JsonNode body) throws Exception {
        refuseUnsupported(body);
        if (body.hasNonNull("suffix") && !body.get("suffix").asText().isEmpty()) {
            throw ApiException.invalid("suffix", "'suffix' (fill-in-the-middle) is not supported");
        }
        if (body.hasNonNull("template")) throw ApiException.invalid("template", "'template' overrides are not supported; the model's chat template is used");
        if (body.hasNonNull("context")) throw ApiException.invalid("context", "'context' (deprecated) is not supported; use /api/chat");
        String modelName = JsonFields.string(body, "model", null);
        String prompt = JsonFields.string(body, "prompt", "");
        ServedModel model = service.model(modelName);
        if (prompt.isEmpty() && !body.hasNonNull("system")) {
            // Ollama's way to load a model: an empty prompt answers at once.
            ObjectNode r = base(model).put("response", "").put("done", true).put("done_reason", "load");
            ctx.json(r);
            return;
        }
        boolean raw = JsonFields.bool(body, "raw", false);
        GenerationRequest.Prompt p;
        if (raw) {
            p = new GenerationRequest.Text(prompt, true, true);
        } else {
            List<ChatTemplate.Message> messages = new ArrayList<>();
            String system = JsonFields.string(body, "system", null);
            if (system != null) messages.add(new ChatTemplate.Message("system", system));
            messages.add(new ChatTemplate.Message("user", prompt));
            p = new GenerationRequest.Chat(messages);
        }
        run(ctx, body, model, p, false);
    }

    // ------------------------------------------------------------------------------------------------ chat

    public void chat(Context ctx, JsonNode body) throws Exception {
        refuseUnsupported(body);
        String modelName = JsonFields.string(body, "model", null);
        ServedModel model = service.model(modelName);
        JsonNode arr = body.get("messages");
        if (arr == null || arr.isNull() || (arr.isArray() && arr.isEmpty())) {
            ObjectNode r = base(model);
            r.putObject("message").put("role", "assistant").put("content", "");
            r.put("done", true).put("done_reason", "load");
            ctx.json(r);
            return;
        }
        if (!arr.isArray()) throw ApiException.invalid("messages", "'messages' must be an array");
        if (arr.size() > service.limits().maxMessages()) {
            throw ApiException.invalid("messages", "at most %d messages per request".formatted(service.limits().maxMessages()));
        }
        List<ChatTemplate.Message> messages = new ArrayList<>();
        for (int i = 0; i < arr.size(); i++) {
            JsonNode m = arr.get(i);
            String role = m.path("role").asText("");
            if (!ROLES.contains(role)) throw ApiException.invalid("messages", "message " + i + ": unknown role '" + role + "'");
            JsonNode images = m.get("images");
            if (images != null && images.isArray() && !images.isEmpty()) throw ApiException.invalid("images", "images are not supported; Freehold serves text models");
            JsonNode c = m.get("content");
            if (c != null && !c.isNull() && !c.isTextual()) throw ApiException.invalid("messages", "message " + i + ": content must be a string");
            Map<String, Object> extra = new java.util.LinkedHashMap<>();
            if (m.hasNonNull("tool_calls")) extra.put("tool_calls", json.convertValue(m.get("tool_calls"), List.class));
            messages.add(new ChatTemplate.Message(role, c == null || c.isNull() ? "" : c.asText(), extra));
        }
        run(ctx, body, model, new GenerationRequest.Chat(messages), true);
    }

    private void run(Context ctx, JsonNode body, ServedModel model, GenerationRequest.Prompt prompt, boolean chat) throws Exception {
        JsonNode options = body.get("options");
        if (options != null && !options.isNull() && !options.isObject()) throw ApiException.invalid("options", "'options' must be an object");
        if (options == null || options.isNull()) options = json.createObjectNode();
        SamplingParams sampling = sampling(options);
        long numPredict = JsonFields.integer(options, "num_predict", "options.num_predict", -1, -2, Integer.MAX_VALUE);
        List<String> stop = JsonFields.strings(options, "stop", 64);
        // num_ctx: the server's context per sequence is fixed at start; a smaller one is honoured by the limit below.
        long numCtx = JsonFields.integer(options, "num_ctx", "options.num_ctx", 0, 0, Integer.MAX_VALUE);
        int maxTokens = numPredict < 0 ? -1 : (int) numPredict;
        GenerationRequest.ToolUse tools = chat ? dev.freehold.server.openai.OpenAiApi.toolUse(body) : null;
        GenerationRequest r = new GenerationRequest(model.name(), prompt, sampling, Map.of(), maxTokens, stop, -1, 1, format(body), tools);
        long t0 = System.nanoTime();
        GenerationService.Started started = service.start(r);
        if (numCtx > 0 && started.prompt().length >= numCtx) {
            started.cancel();
            throw ApiException.invalid("options.num_ctx", "the prompt has %d tokens, more than num_ctx %d".formatted(started.prompt().length, numCtx));
        }
        boolean stream = JsonFields.bool(body, "stream", true);
        // With tools offered, an answer that may still become a call is held back; once it cannot, it streams as text.
        boolean holdBack = tools != null && tools.active();
        boolean released = false;
        ChoiceStream events = new ChoiceStream(started.choices());
        StringBuilder all = new StringBuilder();
        GenerationEvent.Done done = null;
        StreamWriter out = null;
        if (stream) {
            ctx.status(200);
            ctx.contentType("application/x-ndjson");
            out = new StreamWriter(ctx.res().getOutputStream());
        }
        try {
            ChoiceStream.Item item;
            while ((item = events.next()) != null) {
                switch (item.event()) {
                    case GenerationEvent.Token t -> {
                        if (t.text().isEmpty()) continue;
                        if (stream && holdBack && !released) {
                            all.append(t.text());
                            if (!started.mayBecomeCall(all)) {
                                released = true;
                                out.line(json.writeValueAsString(piece(model, all.toString(), chat)));
                            }
                        } else if (stream && (!holdBack || released)) {
                            out.line(json.writeValueAsString(piece(model, t.text(), chat)));
                        } else {
                            all.append(t.text());
                        }
                    }
                    case GenerationEvent.Done d -> {
                        done = d;
                        if (!stream || (holdBack && !released)) all.append(d.tail());
                        else if (!d.tail().isEmpty()) out.line(json.writeValueAsString(piece(model, d.tail(), chat)));
                    }
                    case GenerationEvent.Failed f -> {
                        if (!stream) throw new ApiException(500, "server_error", null, null, f.message());
                        out.line(json.writeValueAsString(json.createObjectNode().put("error", f.message())));
                        return;
                    }
                }
            }
            var calls = holdBack && !released ? dev.freehold.core.chat.ToolCalls.parse(started.toolFormat(), all.toString(), tools.tools())
                    : java.util.Optional.<dev.freehold.core.chat.ToolCalls.Parsed>empty();
            if (stream && holdBack && !released) {
                ObjectNode msg = piece(model, calls.isPresent() ? (calls.get().content() == null ? "" : calls.get().content()) : all.toString(), chat);
                if (calls.isPresent()) ((ObjectNode) msg.get("message")).set("tool_calls", ollamaCalls(calls.get().calls()));
                out.line(json.writeValueAsString(msg));
            }
            ObjectNode last = piece(model, stream ? "" : calls.isPresent() ? (calls.get().content() == null ? "" : calls.get().content()) : all.toString(), chat);
            if (!stream && calls.isPresent()) ((ObjectNode) last.get("message")).set("tool_calls", ollamaCalls(calls.get().calls()));
            last.put("done", true).put("done_reason", done.reason() == GenerationEvent.FinishReason.LENGTH ? "length" : "stop");
            long total = System.nanoTime() - t0;
            // The model stays loaded: no load time; time spent waiting for a free sequence is in total_duration.
            last.put("total_duration", total).put("load_duration", 0L)
                    .put("prompt_eval_count", done.promptTokens() - done.cachedPromptTokens())
                    .put("prompt_eval_duration", done.promptNanos())
                    .put("eval_count", done.completionTokens()).put("eval_duration", Math.max(1, done.generationNanos()));
            dev.freehold.server.RequestFacts.record(ctx, model.name(), done.promptTokens(), done.completionTokens());
            if (stream) out.line(json.writeValueAsString(last));
            else ctx.json(last);
        } catch (StreamWriter.ClientGone gone) {
            // cancelled below
        } finally {
            events.cancel();
        }
    }

    /** Ollama's tool calls: {function: {name, arguments}} with the arguments as an object. */
    private ArrayNode ollamaCalls(List<dev.freehold.core.chat.ToolCalls.Call> calls) throws com.fasterxml.jackson.core.JsonProcessingException {
        ArrayNode arr = json.createArrayNode();
        for (var c : calls) {
            ObjectNode f = arr.addObject().putObject("function").put("name", c.name());
            f.set("arguments", json.readTree(c.arguments()));
        }
        return arr;
    }

    private ObjectNode base(ServedModel model) {
        return json.createObjectNode().put("model", model.name()).put("created_at", Instant.now().toString());
    }

    private ObjectNode piece(ServedModel model, String text, boolean chat) {
        ObjectNode o = base(model);
        if (chat) o.putObject("message").put("role", "assistant").put("content", text);
        else o.put("response", text);
        o.put("done", false);
        return o;
    }

    /** Ollama's {@code format}: "json" (a JSON object) or a JSON schema, as a grammar; null for free text. */
    private static String format(JsonNode body) {
        JsonNode format = body.get("format");
        if (format == null || format.isNull() || (format.isTextual() && format.asText().isEmpty())) return null;
        try {
            if (format.isTextual()) {
                if (!format.asText().equals("json")) throw ApiException.invalid("format", "'format' must be \"json\" or a JSON schema");
                return dev.freehold.core.grammar.JsonSchemaGrammar.anyObject();
            }
            if (!format.isObject()) throw ApiException.invalid("format", "'format' must be \"json\" or a JSON schema");
            return dev.freehold.core.grammar.JsonSchemaGrammar.toGbnf(format);
        } catch (dev.freehold.core.grammar.GrammarException e) {
            throw ApiException.invalid("format", "the JSON schema cannot be used: " + e.getMessage());
        }
    }

    private static void refuseUnsupported(JsonNode body) {
        JsonNode images = body.get("images");
        if (images != null && images.isArray() && !images.isEmpty()) throw ApiException.invalid("images", "images are not supported; Freehold serves text models");
    }

    /** Ollama's options, with Ollama's defaults (temperature 0.8, top_k 40, top_p 0.9, repeat_penalty 1.1). */
    private static SamplingParams sampling(JsonNode o) {
        float temperature = (float) JsonFields.number(o, "temperature", "options.temperature", 0.8, 0, 100);
        int topK = (int) JsonFields.integer(o, "top_k", "options.top_k", 40, 0, Integer.MAX_VALUE);
        float topP = (float) JsonFields.number(o, "top_p", "options.top_p", 0.9, 0, 1);
        float minP = (float) JsonFields.number(o, "min_p", "options.min_p", 0, 0, 1);
        float typicalP = (float) JsonFields.number(o, "typical_p", "options.typical_p", 1, 0, 1);
        float repeat = (float) JsonFields.number(o, "repeat_penalty", "options.repeat_penalty", 1.1, 0.0001, 100);
        int lastN = (int) JsonFields.integer(o, "repeat_last_n", "options.repeat_last_n", 64, -1, 1 << 20);
        if (lastN < 0) lastN = 4096;
        float presence = (float) JsonFields.number(o, "presence_penalty", "options.presence_penalty", 0, -2, 2);
        float frequency = (float) JsonFields.number(o, "frequency_penalty", "options.frequency_penalty", 0, -2, 2);
        long seed = JsonFields.integer(o, "seed", "options.seed", -1, Long.MIN_VALUE, Long.MAX_VALUE);
        if (seed == -1) seed = RANDOM.nextLong();
        return new SamplingParams(temperature, topK, topP, minP, typicalP, repeat, lastN, presence, frequency, seed);
    }
}
