package dev.freehold.server.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.freehold.core.chat.ChatTemplate;
import dev.freehold.core.sample.Logprobs;
import dev.freehold.core.sample.SamplingParams;
import dev.freehold.core.tokenizer.Tokenizer;
import dev.freehold.server.ApiException;
import dev.freehold.server.GenerationService;
import dev.freehold.server.JsonFields;
import dev.freehold.server.ServedModel;
import dev.freehold.server.StreamWriter;
import dev.freehold.server.generation.ChoiceStream;
import dev.freehold.server.generation.GenerationEvent;
import dev.freehold.server.generation.GenerationRequest;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * OpenAI's API ({@code /v1}): chat completions, completions and models, translated onto {@link GenerationRequest}
 * and back. Unknown fields are ignored, as OpenAI does; fields that would change the result and that Freehold cannot
 * honour yet are refused with OpenAI's error shape rather than ignored.
 */
public final class OpenAiApi {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    private final GenerationService service;
    private final dev.freehold.server.EmbeddingService embeddings;
    private final ObjectMapper json;

    public OpenAiApi(GenerationService service, dev.freehold.server.EmbeddingService embeddings, ObjectMapper json) {
        this.service = service;
        this.embeddings = embeddings;
        this.json = json;
    }

    // ------------------------------------------------------------------------------------------------ models

    public void listModels(Context ctx) {
        ObjectNode r = json.createObjectNode().put("object", "list");
        ArrayNode data = r.putArray("data");
        for (ServedModel m : service.models()) data.add(modelObject(m.name(), m.modifiedAt()));
        for (var m : embeddings.models()) data.add(modelObject(m.name(), m.modifiedAt()));
        ctx.json(r);
    }

    public void getModel(Context ctx) {
        String id = ctx.pathParam("model");
        var e = embeddings.find(id);
        if (e != null) {
            ctx.json(modelObject(e.name(), e.modifiedAt()));
            return;
        }
        ServedModel m = service.model(id);
        ctx.json(modelObject(m.name(), m.modifiedAt()));
    }

    private ObjectNode modelObject(String id, java.time.Instant modified) {
        return json.createObjectNode().put("id", id).put("object", "model")
                .put("created", modified.getEpochSecond()).put("owned_by", "freehold");
    }

    // ------------------------------------------------------------------------------------------------ chat

    public void chatCompletions(Context ctx, JsonNode body) throws Exception {
        refuseUnsupported(body);
        List<ChatTemplate.Message> messages = messages(body.get("messages"));
        boolean logprobs = JsonFields.bool(body, "logprobs", false);
        int topLogprobs = (int) JsonFields.integer(body, "top_logprobs", 0, 0, 20);
        if (body.hasNonNull("top_logprobs") && !logprobs) {
            throw ApiException.invalid("top_logprobs", "'top_logprobs' needs 'logprobs' set to true");
        }
        long maxTokens = JsonFields.integer(body, "max_completion_tokens", -1, 1, Integer.MAX_VALUE);
        if (maxTokens < 0) maxTokens = JsonFields.integer(body, "max_tokens", -1, 1, Integer.MAX_VALUE);
        GenerationRequest r = new GenerationRequest(JsonFields.string(body, "model", null),
                new GenerationRequest.Chat(messages), sampling(body), logitBias(body), (int) maxTokens,
                JsonFields.strings(body, "stop", 4), logprobs ? topLogprobs : -1, (int) JsonFields.integer(body, "n", 1, 1, 128),
                grammar(body), toolUse(body));
        boolean stream = JsonFields.bool(body, "stream", false);
        boolean includeUsage = stream && body.path("stream_options").path("include_usage").asBoolean(false);
        GenerationService.Started started = service.start(r);
        String id = "chatcmpl-" + randomId();
        long created = System.currentTimeMillis() / 1000;
        Tokenizer tok = started.model().engine().tokenizer();
        ChoiceStream events = new ChoiceStream(started.choices());
        if (stream) {
            streamChat(ctx, started, events, id, created, includeUsage, tok);
            return;
        }
        int n = started.choices().size();
        StringBuilder[] text = new StringBuilder[n];
        ArrayNode[] lps = new ArrayNode[n];
        GenerationEvent.Done[] done = new GenerationEvent.Done[n];
        for (int i = 0; i < n; i++) {
            text[i] = new StringBuilder();
            lps[i] = json.createArrayNode();
        }
        try {
            ChoiceStream.Item item;
            while ((item = events.next()) != null) {
                int i = item.index();
                switch (item.event()) {
                    case GenerationEvent.Token t -> {
                        text[i].append(t.text());
                        if (t.logprobs() != null) lps[i].add(logprobContent(tok, t.logprobs()));
                    }
                    case GenerationEvent.Done d -> {
                        text[i].append(d.tail());
                        done[i] = d;
                    }
                    case GenerationEvent.Failed f -> throw new ApiException(500, "server_error", null, null, f.message());
                }
            }
        } finally {
            events.cancel();
        }
        ObjectNode resp = json.createObjectNode().put("id", id).put("object", "chat.completion").put("created", created)
                .put("model", started.model().name()).put("system_fingerprint", fingerprint(started.model()));
        ArrayNode choices = resp.putArray("choices");
        for (int i = 0; i < n; i++) {
            ObjectNode c = choices.addObject().put("index", i);
            var calls = toolCalls(started, text[i].toString());
            ObjectNode message = c.putObject("message").put("role", "assistant");
            if (calls.isPresent()) {
                if (calls.get().content() == null) message.putNull("content");
                else message.put("content", calls.get().content());
                message.putNull("refusal");
                message.set("tool_calls", toolCallsJson(calls.get().calls(), false));
            } else {
                message.put("content", text[i].toString()).putNull("refusal");
            }
            if (logprobs) c.putObject("logprobs").set("content", lps[i]);
            else c.putNull("logprobs");
            c.put("finish_reason", calls.isPresent() ? "tool_calls" : finishReason(done[i]));
        }
        resp.set("usage", usage(started, done));
        recordFacts(ctx, started.model(), resp.get("usage"));
        ctx.json(resp);
    }

    private void streamChat(Context ctx, GenerationService.Started started, ChoiceStream events, String id, long created,
                            boolean includeUsage, Tokenizer tok) throws Exception {
        StreamWriter out = sse(ctx);
        String model = started.model().name();
        String fp = fingerprint(started.model());
        int n = started.choices().size();
        GenerationEvent.Done[] done = new GenerationEvent.Done[n];
        // With tools offered, an answer that may still become a call (it is empty so far, or begins like the format's
        // call) is held back; once it cannot, it streams as text. A forced call is held to its end.
        boolean tools = started.tools() != null && started.tools().active();
        boolean[] holdBack = new boolean[n];
        StringBuilder[] held = new StringBuilder[n];
        for (int i = 0; i < n; i++) {
            held[i] = new StringBuilder();
            holdBack[i] = tools;
        }
        try {
            // As OpenAI: each choice opens with the role, content empty.
            for (int i = 0; i < n; i++) {
                ObjectNode c = chunk(id, created, model, fp, includeUsage);
                ObjectNode choice = ((ArrayNode) c.get("choices")).addObject().put("index", i);
                choice.putObject("delta").put("role", "assistant").put("content", "").putNull("refusal");
                choice.putNull("logprobs");
                choice.putNull("finish_reason");
                out.event(json.writeValueAsString(c));
            }
            ChoiceStream.Item item;
            while ((item = events.next()) != null) {
                int i = item.index();
                ObjectNode c = chunk(id, created, model, fp, includeUsage);
                ObjectNode choice = ((ArrayNode) c.get("choices")).addObject().put("index", i);
                switch (item.event()) {
                    case GenerationEvent.Token t -> {
                        if (holdBack[i]) {
                            held[i].append(t.text());
                            if (started.tools().forced() || started.mayBecomeCall(held[i])) continue;
                            holdBack[i] = false; // plain text: release what was held, then stream
                            choice.putObject("delta").put("content", held[i].toString());
                            choice.putNull("logprobs");
                            choice.putNull("finish_reason");
                            out.event(json.writeValueAsString(c));
                            continue;
                        }
                        if (t.text().isEmpty() && t.logprobs() == null) continue;
                        choice.putObject("delta").put("content", t.text());
                        if (t.logprobs() != null) choice.putObject("logprobs").putArray("content").add(logprobContent(tok, t.logprobs()));
                        else choice.putNull("logprobs");
                        choice.putNull("finish_reason");
                    }
                    case GenerationEvent.Done d -> {
                        done[i] = d;
                        if (holdBack[i]) {
                            held[i].append(d.tail());
                            var calls = toolCalls(started, held[i].toString());
                            if (calls.isPresent()) {
                                if (calls.get().content() != null) {
                                    ObjectNode pre = chunk(id, created, model, fp, includeUsage);
                                    ObjectNode pc = ((ArrayNode) pre.get("choices")).addObject().put("index", i);
                                    pc.putObject("delta").put("content", calls.get().content());
                                    pc.putNull("logprobs");
                                    pc.putNull("finish_reason");
                                    out.event(json.writeValueAsString(pre));
                                }
                                // OpenAI's shape: per call, a delta with its id, type and name, then one with the arguments
                                ArrayNode all = toolCallsJson(calls.get().calls(), true);
                                for (JsonNode call : all) {
                                    ObjectNode head = chunk(id, created, model, fp, includeUsage);
                                    ObjectNode hc = ((ArrayNode) head.get("choices")).addObject().put("index", i);
                                    ObjectNode first = ((ObjectNode) call.deepCopy());
                                    ((ObjectNode) first.get("function")).put("arguments", "");
                                    hc.putObject("delta").putArray("tool_calls").add(first);
                                    hc.putNull("logprobs");
                                    hc.putNull("finish_reason");
                                    out.event(json.writeValueAsString(head));
                                    ObjectNode args = chunk(id, created, model, fp, includeUsage);
                                    ObjectNode ac = ((ArrayNode) args.get("choices")).addObject().put("index", i);
                                    ObjectNode part = json.createObjectNode().put("index", call.get("index").asInt());
                                    part.putObject("function").put("arguments", call.get("function").get("arguments").asText());
                                    ac.putObject("delta").putArray("tool_calls").add(part);
                                    ac.putNull("logprobs");
                                    ac.putNull("finish_reason");
                                    out.event(json.writeValueAsString(args));
                                }
                                choice.putObject("delta");
                                choice.putNull("logprobs");
                                choice.put("finish_reason", "tool_calls");
                                out.event(json.writeValueAsString(c));
                                continue;
                            }
                            // not a call: the held text as content
                            d = new GenerationEvent.Done(d.reason(), held[i].toString(), d.promptTokens(), d.cachedPromptTokens(),
                                    d.completionTokens(), d.queuedNanos(), d.promptNanos(), d.generationNanos());
                        }
                        if (!d.tail().isEmpty()) {
                            ObjectNode tail = chunk(id, created, model, fp, includeUsage);
                            ObjectNode tc = ((ArrayNode) tail.get("choices")).addObject().put("index", i);
                            tc.putObject("delta").put("content", d.tail());
                            tc.putNull("logprobs");
                            tc.putNull("finish_reason");
                            out.event(json.writeValueAsString(tail));
                        }
                        choice.putObject("delta");
                        choice.putNull("logprobs");
                        choice.put("finish_reason", finishReason(d));
                    }
                    case GenerationEvent.Failed f -> {
                        // Headers are sent: report in the stream, as OpenAI does for mid-stream errors.
                        ObjectNode err = json.createObjectNode();
                        err.putObject("error").put("message", f.message()).put("type", "server_error").putNull("param").putNull("code");
                        out.event(json.writeValueAsString(err));
                        events.cancel();
                        return;
                    }
                }
                out.event(json.writeValueAsString(c));
            }
            ObjectNode usage = usage(started, done);
            recordFacts(ctx, started.model(), usage);
            if (includeUsage) {
                ObjectNode c = chunk(id, created, model, fp, false);
                c.set("usage", usage);
                out.event(json.writeValueAsString(c));
            }
            out.event("[DONE]");
        } catch (StreamWriter.ClientGone gone) {
            events.cancel();
        } finally {
            events.cancel();
        }
    }

    private ObjectNode chunk(String id, long created, String model, String fp, boolean usageNull) {
        ObjectNode c = json.createObjectNode().put("id", id).put("object", "chat.completion.chunk").put("created", created)
                .put("model", model).put("system_fingerprint", fp);
        c.putArray("choices");
        if (usageNull) c.putNull("usage");
        return c;
    }

    // ------------------------------------------------------------------------------------------------ completions

    public void completions(Context ctx, JsonNode body) throws Exception {
        if (body.hasNonNull("suffix") && !body.get("suffix").asText().isEmpty()) {
            throw ApiException.invalid("suffix", "'suffix' (fill-in-the-middle) is not supported");
        }
        long bestOf = JsonFields.integer(body, "best_of", 1, 1, 128);
        int n = (int) JsonFields.integer(body, "n", 1, 1, 128);
        if (bestOf != 1 && bestOf != n) throw ApiException.invalid("best_of", "'best_of' other than 'n' is not supported");
        boolean echo = JsonFields.bool(body, "echo", false);
        int logprobs = (int) JsonFields.integer(body, "logprobs", -1, 0, 5);
        List<GenerationRequest.Prompt> prompts = completionPrompts(body.get("prompt"));
        int maxTokens = (int) JsonFields.integer(body, "max_tokens", 16, 0, Integer.MAX_VALUE);
        String modelName = JsonFields.string(body, "model", null);
        SamplingParams sampling = sampling(body);
        Map<Integer, Float> bias = logitBias(body);
        List<String> stop = JsonFields.strings(body, "stop", 4);
        boolean stream = JsonFields.bool(body, "stream", false);
        boolean includeUsage = stream && body.path("stream_options").path("include_usage").asBoolean(false);

        List<GenerationService.Started> all = new ArrayList<>();
        try {
            for (GenerationRequest.Prompt p : prompts) {
                all.add(service.start(new GenerationRequest(modelName, p, sampling, bias, maxTokens, stop, logprobs, n, grammar(body))));
            }
        } catch (RuntimeException e) {
            all.forEach(GenerationService.Started::cancel);
            throw e;
        }
        ServedModel model = all.getFirst().model();
        Tokenizer tok = model.engine().tokenizer();
        List<dev.freehold.server.generation.Generation> gens = new ArrayList<>();
        for (GenerationService.Started s : all) gens.addAll(s.choices());
        ChoiceStream events = new ChoiceStream(gens);
        String id = "cmpl-" + randomId();
        long created = System.currentTimeMillis() / 1000;
        int total = gens.size();
        String[] echoText = new String[total];
        for (int i = 0; i < total; i++) {
            GenerationRequest.Prompt p = prompts.get(i / n);
            echoText[i] = !echo ? "" : p instanceof GenerationRequest.Text t ? t.text() : tok.decode(all.get(i / n).prompt());
        }
        GenerationEvent.Done[] done = new GenerationEvent.Done[total];
        if (stream) {
            StreamWriter out = sse(ctx);
            try {
                for (int i = 0; i < total; i++) {
                    if (!echoText[i].isEmpty()) out.event(json.writeValueAsString(completionChunk(id, created, model, i, echoText[i], null, includeUsage)));
                }
                ChoiceStream.Item item;
                while ((item = events.next()) != null) {
                    int i = item.index();
                    switch (item.event()) {
                        case GenerationEvent.Token t -> {
                            if (t.text().isEmpty()) continue;
                            out.event(json.writeValueAsString(completionChunk(id, created, model, i, t.text(), null, includeUsage)));
                        }
                        case GenerationEvent.Done d -> {
                            done[i] = d;
                            out.event(json.writeValueAsString(completionChunk(id, created, model, i, d.tail(), finishReason(d), includeUsage)));
                        }
                        case GenerationEvent.Failed f -> {
                            ObjectNode err = json.createObjectNode();
                            err.putObject("error").put("message", f.message()).put("type", "server_error").putNull("param").putNull("code");
                            out.event(json.writeValueAsString(err));
                            return;
                        }
                    }
                }
                ObjectNode usage = usage(all, done, n);
                recordFacts(ctx, model, usage);
                if (includeUsage) {
                    ObjectNode c = json.createObjectNode().put("id", id).put("object", "text_completion").put("created", created)
                            .put("model", model.name()).put("system_fingerprint", fingerprint(model));
                    c.putArray("choices");
                    c.set("usage", usage);
                    out.event(json.writeValueAsString(c));
                }
                out.event("[DONE]");
            } catch (StreamWriter.ClientGone gone) {
                // cancelled below
            } finally {
                events.cancel();
            }
            return;
        }
        StringBuilder[] text = new StringBuilder[total];
        List<List<Logprobs.Step>> steps = new ArrayList<>();
        List<List<String>> pieces = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            text[i] = new StringBuilder(echoText[i]);
            steps.add(new ArrayList<>());
            pieces.add(new ArrayList<>());
        }
        try {
            ChoiceStream.Item item;
            while ((item = events.next()) != null) {
                int i = item.index();
                switch (item.event()) {
                    case GenerationEvent.Token t -> {
                        text[i].append(t.text());
                        if (t.logprobs() != null) {
                            steps.get(i).add(t.logprobs());
                        }
                    }
                    case GenerationEvent.Done d -> {
                        text[i].append(d.tail());
                        done[i] = d;
                    }
                    case GenerationEvent.Failed f -> throw new ApiException(500, "server_error", null, null, f.message());
                }
            }
        } finally {
            events.cancel();
        }
        ObjectNode resp = json.createObjectNode().put("id", id).put("object", "text_completion").put("created", created)
                .put("model", model.name()).put("system_fingerprint", fingerprint(model));
        ArrayNode choices = resp.putArray("choices");
        for (int i = 0; i < total; i++) {
            ObjectNode c = choices.addObject().put("text", text[i].toString()).put("index", i);
            if (logprobs >= 0) c.set("logprobs", legacyLogprobs(tok, steps.get(i), echoText[i].length()));
            else c.putNull("logprobs");
            c.put("finish_reason", finishReason(done[i]));
        }
        resp.set("usage", usage(all, done, n));
        recordFacts(ctx, model, resp.get("usage"));
        ctx.json(resp);
    }

    private ObjectNode completionChunk(String id, long created, ServedModel model, int index, String text, String finish, boolean usageNull) {
        ObjectNode c = json.createObjectNode().put("id", id).put("object", "text_completion").put("created", created)
                .put("model", model.name()).put("system_fingerprint", fingerprint(model));
        ObjectNode choice = c.putArray("choices").addObject().put("text", text).put("index", index);
        choice.putNull("logprobs");
        if (finish == null) choice.putNull("finish_reason");
        else choice.put("finish_reason", finish);
        if (usageNull) c.putNull("usage");
        return c;
    }

    /** The legacy completions log-probabilities: parallel arrays of tokens, their log-probabilities and offsets. */
    private ObjectNode legacyLogprobs(Tokenizer tok, List<Logprobs.Step> steps, int offset) {
        ObjectNode lp = json.createObjectNode();
        ArrayNode tokens = lp.putArray("tokens");
        ArrayNode values = lp.putArray("token_logprobs");
        ArrayNode top = lp.putArray("top_logprobs");
        ArrayNode offsets = lp.putArray("text_offset");
        int at = offset;
        for (Logprobs.Step s : steps) {
            String piece = piece(tok, s.chosen().token());
            tokens.add(piece);
            values.add(s.chosen().logprob());
            ObjectNode alts = top.addObject();
            for (Logprobs.TokenLogprob t : s.top()) alts.put(piece(tok, t.token()), t.logprob());
            offsets.add(at);
            at += piece.length();
        }
        return lp;
    }

    /** A completions {@code prompt}: a string, an array of strings, an array of ids, or an array of id arrays. */
    private List<GenerationRequest.Prompt> completionPrompts(JsonNode p) {
        List<GenerationRequest.Prompt> out = new ArrayList<>();
        if (p == null || p.isNull()) {
            out.add(new GenerationRequest.Text("", true, false));
        } else if (p.isTextual()) {
            out.add(new GenerationRequest.Text(p.asText(), true, false));
        } else if (p.isArray() && !p.isEmpty() && p.get(0).isIntegralNumber()) {
            out.add(new GenerationRequest.Tokens(ids(p)));
        } else if (p.isArray()) {
            if (p.isEmpty()) throw ApiException.invalid("prompt", "'prompt' must not be an empty array");
            if (p.size() > service.limits().maxMessages()) throw ApiException.invalid("prompt", "too many prompts in one request");
            for (JsonNode e : p) {
                if (e.isTextual()) out.add(new GenerationRequest.Text(e.asText(), true, false));
                else if (e.isArray()) out.add(new GenerationRequest.Tokens(ids(e)));
                else throw ApiException.invalid("prompt", "'prompt' must be a string, an array of strings or an array of token ids");
            }
        } else {
            throw ApiException.invalid("prompt", "'prompt' must be a string, an array of strings or an array of token ids");
        }
        return out;
    }

    private static int[] ids(JsonNode arr) {
        int[] ids = new int[arr.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = arr.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt()) throw ApiException.invalid("prompt", "token ids must be integers");
            ids[i] = e.intValue();
        }
        return ids;
    }

    // ------------------------------------------------------------------------------------------------ tools

    private static final java.util.regex.Pattern TOOL_NAME = java.util.regex.Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    /** OpenAI's {@code tools}, {@code tool_choice} and {@code parallel_tool_calls}; null without tools. */
    public static GenerationRequest.ToolUse toolUse(JsonNode body) {
        JsonNode tools = body.get("tools");
        JsonNode choice = body.get("tool_choice");
        if (tools == null || tools.isNull() || (tools.isArray() && tools.isEmpty())) {
            if (choice != null && !choice.isNull() && !(choice.isTextual() && (choice.asText().equals("none") || choice.asText().equals("auto")))) {
                throw ApiException.invalid("tool_choice", "'tool_choice' asks for a tool, but no 'tools' are given");
            }
            return null;
        }
        if (!tools.isArray()) throw ApiException.invalid("tools", "'tools' must be an array");
        if (tools.size() > 128) throw ApiException.invalid("tools", "at most 128 tools");
        List<dev.freehold.core.chat.ToolCalls.Tool> list = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (int i = 0; i < tools.size(); i++) {
            JsonNode t = tools.get(i);
            if (!t.path("type").asText("function").equals("function")) throw ApiException.invalid("tools[" + i + "].type", "only function tools are supported");
            JsonNode f = t.get("function");
            if (f == null || !f.isObject()) throw ApiException.invalid("tools[" + i + "].function", "each tool needs a 'function' object");
            String name = f.path("name").asText("");
            if (!TOOL_NAME.matcher(name).matches()) {
                throw ApiException.invalid("tools[" + i + "].function.name", "a function name is 1 to 64 of a-z, A-Z, 0-9, _ and -; got '" + name + "'");
            }
            if (!names.add(name)) throw ApiException.invalid("tools[" + i + "].function.name", "two tools are named '" + name + "'");
            JsonNode params = f.get("parameters");
            if (params != null && !params.isNull() && !params.isObject()) throw ApiException.invalid("tools[" + i + "].function.parameters", "must be a JSON schema object");
            list.add(new dev.freehold.core.chat.ToolCalls.Tool(name, f.path("description").isTextual() ? f.get("description").asText() : null,
                    params == null || params.isNull() ? null : params));
        }
        String mode = "auto";
        if (choice != null && !choice.isNull()) {
            if (choice.isTextual()) {
                mode = choice.asText();
                if (!java.util.Set.of("none", "auto", "required").contains(mode)) {
                    throw ApiException.invalid("tool_choice", "'tool_choice' must be none, auto, required or a function");
                }
            } else if (choice.isObject() && choice.path("function").path("name").isTextual()) {
                mode = choice.get("function").get("name").asText();
                if (!names.contains(mode)) throw ApiException.invalid("tool_choice", "'tool_choice' names '" + mode + "', which is not among the tools");
            } else {
                throw ApiException.invalid("tool_choice", "'tool_choice' must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}}");
            }
        }
        return new GenerationRequest.ToolUse(list, mode, JsonFields.bool(body, "parallel_tool_calls", true));
    }

    /** The calls in a choice's text, when tools were offered and it holds well-formed ones. */
    private static java.util.Optional<dev.freehold.core.chat.ToolCalls.Parsed> toolCalls(GenerationService.Started s, String text) {
        if (s.tools() == null || !s.tools().active() || s.toolFormat() == null) return java.util.Optional.empty();
        return dev.freehold.core.chat.ToolCalls.parse(s.toolFormat(), text, s.tools().tools());
    }

    private ArrayNode toolCallsJson(List<dev.freehold.core.chat.ToolCalls.Call> calls, boolean withIndex) {
        ArrayNode arr = json.createArrayNode();
        for (int i = 0; i < calls.size(); i++) {
            ObjectNode c = arr.addObject();
            if (withIndex) c.put("index", i);
            c.put("id", "call_" + randomId());
            c.put("type", "function");
            c.putObject("function").put("name", calls.get(i).name()).put("arguments", calls.get(i).arguments());
        }
        return arr;
    }

    // ------------------------------------------------------------------------------------------------ shared

    /**
     * The grammar the output must follow: {@code response_format} json_object (any JSON object) or json_schema, or
     * llama-server's {@code grammar} (GBNF); null for free text.
     */
    static String grammar(JsonNode body) {
        JsonNode format = body.get("response_format");
        String gbnf = JsonFields.string(body, "grammar", null);
        if (format != null && !format.isNull()) {
            if (!format.isObject()) throw ApiException.invalid("response_format", "'response_format' must be an object");
            String type = format.path("type").asText("");
            try {
                switch (type) {
                    case "text" -> {
                    }
                    case "json_object" -> gbnf = dev.freehold.core.grammar.JsonSchemaGrammar.anyObject();
                    case "json_schema" -> {
                        JsonNode schema = format.path("json_schema").get("schema");
                        if (schema == null || schema.isNull()) {
                            throw ApiException.invalid("response_format", "'response_format.json_schema.schema' is required");
                        }
                        gbnf = dev.freehold.core.grammar.JsonSchemaGrammar.toGbnf(schema);
                    }
                    default -> throw ApiException.invalid("response_format", "response_format type '" + type
                            + "' is not one of text, json_object, json_schema");
                }
            } catch (dev.freehold.core.grammar.GrammarException e) {
                throw ApiException.invalid("response_format", "the JSON schema cannot be used: " + e.getMessage());
            }
        }
        return gbnf;
    }

    /** Fields whose effect Freehold cannot give yet: refusing them is better than an answer that ignores them. */
    private static void refuseUnsupported(JsonNode body) {
        for (String f : List.of("functions", "function_call", "audio", "prediction")) {
            if (body.hasNonNull(f)) throw ApiException.invalid(f, "'" + f + "' is not supported");
        }
        JsonNode modalities = body.get("modalities");
        if (modalities != null && modalities.isArray()) {
            for (JsonNode m : modalities) {
                if (!m.asText().equals("text")) throw ApiException.invalid("modalities", "only the 'text' modality is served");
            }
        }
    }

    private List<ChatTemplate.Message> messages(JsonNode arr) {
        if (arr == null || !arr.isArray()) throw ApiException.invalid("messages", "'messages' must be an array");
        if (arr.isEmpty()) throw ApiException.invalid("messages", "'messages' must not be empty");
        if (arr.size() > service.limits().maxMessages()) {
            throw ApiException.invalid("messages", "at most %d messages per request, got %d".formatted(service.limits().maxMessages(), arr.size()));
        }
        List<ChatTemplate.Message> out = new ArrayList<>();
        for (int i = 0; i < arr.size(); i++) {
            JsonNode m = arr.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) throw ApiException.invalid(where, "each message must be an object");
            String role = m.path("role").asText("");
            if (!ROLES.contains(role)) {
                throw ApiException.invalid(where + ".role", "role must be one of system, developer, user, assistant, tool; got '" + role + "'");
            }
            String content = content(m.get("content"), where + ".content");
            Map<String, Object> extra = new LinkedHashMap<>();
            if (m.hasNonNull("name")) extra.put("name", m.get("name").asText());
            if (m.hasNonNull("tool_call_id")) extra.put("tool_call_id", m.get("tool_call_id").asText());
            if (m.hasNonNull("tool_calls")) extra.put("tool_calls", templateToolCalls(m.get("tool_calls"), where));
            // The templates know system; developer is OpenAI's newer name for it.
            out.add(new ChatTemplate.Message(role.equals("developer") ? "system" : role, content, extra));
        }
        return out;
    }

    /**
     * An assistant message's tool calls for the chat template: OpenAI sends arguments as a JSON string, templates
     * expect an object (they write it with tojson).
     */
    private List<Object> templateToolCalls(JsonNode calls, String where) {
        if (!calls.isArray()) throw ApiException.invalid(where + ".tool_calls", "'tool_calls' must be an array");
        List<Object> out = new ArrayList<>();
        for (JsonNode c : calls) {
            ObjectNode copy = c.deepCopy();
            JsonNode f = copy.get("function");
            if (f instanceof ObjectNode fo && fo.path("arguments").isTextual()) {
                try {
                    fo.set("arguments", json.readTree(fo.get("arguments").asText()));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw ApiException.invalid(where + ".tool_calls", "tool call arguments are not valid JSON: " + e.getOriginalMessage());
                }
            }
            out.add(json.convertValue(copy, Map.class));
        }
        return out;
    }

    /** Message content: a string, null (an assistant turn with tool calls), or text parts joined. */
    private static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) return "";
        if (c.isTextual()) return c.asText();
        if (!c.isArray()) throw ApiException.invalid(where, "content must be a string or an array of content parts");
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : c) {
            String type = part.path("type").asText("");
            if (!type.equals("text")) {
                throw ApiException.invalid(where, "content parts of type '" + type + "' are not supported; Freehold serves text models");
            }
            if (!sb.isEmpty()) sb.append('\n');
            sb.append(part.path("text").asText(""));
        }
        return sb.toString();
    }

    /** OpenAI's sampling fields (temperature 1 and top_p 1 by default), with llama-server's extensions. */
    private static SamplingParams sampling(JsonNode b) {
        float temperature = (float) JsonFields.number(b, "temperature", 1.0, 0, 2);
        float topP = (float) JsonFields.number(b, "top_p", 1.0, 0, 1);
        int topK = (int) JsonFields.integer(b, "top_k", 0, 0, Integer.MAX_VALUE);
        float minP = (float) JsonFields.number(b, "min_p", 0, 0, 1);
        float typicalP = (float) JsonFields.number(b, "typical_p", 1, 0, 1);
        float repeat = (float) JsonFields.number(b, "repeat_penalty", 1, 0.0001, 100);
        int lastN = (int) JsonFields.integer(b, "repeat_last_n", 64, 0, 1 << 20);
        float presence = (float) JsonFields.number(b, "presence_penalty", 0, -2, 2);
        float frequency = (float) JsonFields.number(b, "frequency_penalty", 0, -2, 2);
        long seed = JsonFields.integer(b, "seed", RANDOM.nextLong(), Long.MIN_VALUE, Long.MAX_VALUE);
        return new SamplingParams(temperature, topK, topP, minP, typicalP, repeat, lastN, presence, frequency, seed);
    }

    private static Map<Integer, Float> logitBias(JsonNode b) {
        JsonNode n = b.get("logit_bias");
        Map<Integer, Float> out = new HashMap<>();
        if (n == null || n.isNull()) return out;
        if (!n.isObject()) throw ApiException.invalid("logit_bias", "'logit_bias' must map token ids to numbers");
        if (n.size() > 1024) throw ApiException.invalid("logit_bias", "'logit_bias' takes at most 1024 tokens");
        var it = n.fields();
        while (it.hasNext()) {
            var e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException ex) {
                throw ApiException.invalid("logit_bias", "'logit_bias' keys must be token ids, got '" + e.getKey() + "'");
            }
            if (!e.getValue().isNumber() || e.getValue().doubleValue() < -100 || e.getValue().doubleValue() > 100) {
                throw ApiException.invalid("logit_bias", "'logit_bias' values must be numbers from -100 to 100");
            }
            out.put(id, e.getValue().floatValue());
        }
        return out;
    }

    private ObjectNode logprobContent(Tokenizer tok, Logprobs.Step s) {
        ObjectNode o = tokenLogprob(tok, s.chosen());
        ArrayNode top = o.putArray("top_logprobs");
        for (Logprobs.TokenLogprob t : s.top()) top.add(tokenLogprob(tok, t));
        return o;
    }

    private ObjectNode tokenLogprob(Tokenizer tok, Logprobs.TokenLogprob t) {
        byte[] bytes = tok.pieceBytes(t.token(), true);
        ObjectNode o = json.createObjectNode().put("token", new String(bytes, StandardCharsets.UTF_8)).put("logprob", t.logprob());
        ArrayNode b = o.putArray("bytes");
        for (byte x : bytes) b.add(x & 0xFF);
        return o;
    }

    private static String piece(Tokenizer tok, int id) {
        return new String(tok.pieceBytes(id, true), StandardCharsets.UTF_8);
    }

    private ObjectNode usage(GenerationService.Started s, GenerationEvent.Done[] done) {
        return usage(List.of(s), done, done.length);
    }

    /** Totals: each prompt counted once (its choices share it), every choice's completion tokens. */
    private ObjectNode usage(List<GenerationService.Started> all, GenerationEvent.Done[] done, int perPrompt) {
        int prompt = 0;
        int cached = 0;
        int completion = 0;
        for (int p = 0; p < all.size(); p++) {
            prompt += all.get(p).prompt().length;
            GenerationEvent.Done first = done[p * perPrompt];
            if (first != null) cached += first.cachedPromptTokens();
        }
        for (GenerationEvent.Done d : done) if (d != null) completion += d.completionTokens();
        ObjectNode u = json.createObjectNode().put("prompt_tokens", prompt).put("completion_tokens", completion)
                .put("total_tokens", prompt + completion);
        u.putObject("prompt_tokens_details").put("cached_tokens", cached);
        return u;
    }

    private static void recordFacts(Context ctx, ServedModel model, JsonNode usage) {
        dev.freehold.server.RequestFacts.record(ctx, model.name(), usage.get("prompt_tokens").asInt(), usage.get("completion_tokens").asInt());
    }

    private static String finishReason(GenerationEvent.Done d) {
        if (d == null) return "stop";
        return d.reason() == GenerationEvent.FinishReason.LENGTH ? "length" : "stop";
    }

    static StreamWriter sse(Context ctx) throws java.io.IOException {
        ctx.status(200);
        ctx.contentType("text/event-stream; charset=utf-8");
        ctx.header("Cache-Control", "no-cache");
        ctx.header("X-Accel-Buffering", "no");
        return new StreamWriter(ctx.res().getOutputStream());
    }

    /** Identifies the backend configuration, as OpenAI's does: Freehold's version and the model file. */
    static String fingerprint(ServedModel m) {
        return "fp_" + m.fingerprint();
    }

    private static String randomId() {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder sb = new StringBuilder(24);
        for (int i = 0; i < 24; i++) sb.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        return sb.toString();
    }
}
