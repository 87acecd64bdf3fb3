package dev.freehold.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Embeddings over both APIs: OpenAI's {@code POST /v1/embeddings} and Ollama's {@code POST /api/embed} and older
 * {@code POST /api/embeddings}, translated onto {@link EmbeddingService}.
 */
public final class EmbeddingsApi {
    private final EmbeddingService embeddings;
    private final GenerationService generation;
    private final ObjectMapper json;

    public EmbeddingsApi(EmbeddingService embeddings, GenerationService generation, ObjectMapper json) {
        this.embeddings = embeddings;
        this.generation = generation;
        this.json = json;
    }

    /** An embedding model, or a text generation model (which embeds by mean pooling, as llama.cpp does). */
    private record Target(EmbeddingService.Model encoder, ServedModel decoder) {
        String name() {
            return encoder != null ? encoder.name() : decoder.name();
        }
    }

    private Target model(String name) {
        if (name == null || name.isEmpty()) throw ApiException.invalid("model", "'model' is required");
        EmbeddingService.Model m = embeddings.find(name);
        if (m != null) return new Target(m, null);
        return new Target(null, generation.model(name));
    }

    private EmbeddingService.Result embed(Target t, List<EmbeddingService.Input> inputs, boolean truncate, String param) {
        return t.encoder() != null ? embeddings.embed(t.encoder(), inputs, truncate, param)
                : embeddings.embedWithDecoder(t.decoder(), inputs, truncate, param);
    }

    /** OpenAI: {@code input} a string, an array of strings, an array of ids, or an array of id arrays. */
    public void openAi(Context ctx, JsonNode body) {
        Target m = model(JsonFields.string(body, "model", null));
        List<EmbeddingService.Input> inputs = openAiInputs(body.get("input"));
        String format = JsonFields.string(body, "encoding_format", "float");
        if (!format.equals("float") && !format.equals("base64")) {
            throw ApiException.invalid("encoding_format", "'encoding_format' must be 'float' or 'base64'");
        }
        if (body.hasNonNull("dimensions")) {
            long asked = JsonFields.integer(body, "dimensions", 0, 1, 1 << 20);
            int dim = m.encoder() != null ? embeddings.dimension(m.encoder()) : m.decoder().engine().config().dim();
            if (asked != dim) {
                throw ApiException.invalid("dimensions", "'%s' gives %d dimensions and cannot shorten them to %d".formatted(m.name(), dim, asked));
            }
        }
        EmbeddingService.Result r = embed(m, inputs, true, "input");
        ObjectNode resp = json.createObjectNode().put("object", "list");
        ArrayNode data = resp.putArray("data");
        for (int i = 0; i < r.vectors().length; i++) {
            ObjectNode o = data.addObject().put("object", "embedding").put("index", i);
            if (format.equals("base64")) {
                ByteBuffer b = ByteBuffer.allocate(4 * r.vectors()[i].length).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : r.vectors()[i]) b.putFloat(f);
                o.put("embedding", Base64.getEncoder().encodeToString(b.array()));
            } else {
                ArrayNode v = o.putArray("embedding");
                for (float f : r.vectors()[i]) v.add(f);
            }
        }
        resp.put("model", m.name());
        resp.putObject("usage").put("prompt_tokens", r.totalTokens()).put("total_tokens", r.totalTokens());
        RequestFacts.record(ctx, m.name(), r.totalTokens(), 0);
        ctx.json(resp);
    }

    private List<EmbeddingService.Input> openAiInputs(JsonNode in) {
        List<EmbeddingService.Input> out = new ArrayList<>();
        if (in == null || in.isNull()) throw ApiException.invalid("input", "'input' is required");
        if (in.isTextual()) {
            out.add(new EmbeddingService.Text(in.asText()));
        } else if (in.isArray() && !in.isEmpty() && in.get(0).isIntegralNumber()) {
            out.add(new EmbeddingService.Ids(ids(in)));
        } else if (in.isArray()) {
            if (in.isEmpty()) throw ApiException.invalid("input", "'input' must not be an empty array");
            for (JsonNode e : in) {
                if (e.isTextual()) out.add(new EmbeddingService.Text(e.asText()));
                else if (e.isArray()) out.add(new EmbeddingService.Ids(ids(e)));
                else throw ApiException.invalid("input", "'input' must be a string, an array of strings, or token ids");
            }
        } else {
            throw ApiException.invalid("input", "'input' must be a string, an array of strings, or token ids");
        }
        return out;
    }

    private static int[] ids(JsonNode arr) {
        int[] ids = new int[arr.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = arr.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt()) throw ApiException.invalid("input", "token ids must be integers");
            ids[i] = e.intValue();
        }
        return ids;
    }

    /** Ollama's {@code /api/embed}: {@code input} a string or strings, {@code truncate} (default true). */
    public void ollamaEmbed(Context ctx, JsonNode body) {
        long t0 = System.nanoTime();
        Target m = model(JsonFields.string(body, "model", null));
        JsonNode in = body.get("input");
        List<EmbeddingService.Input> inputs = new ArrayList<>();
        if (in == null || in.isNull()) throw ApiException.invalid("input", "'input' is required");
        if (in.isTextual()) inputs.add(new EmbeddingService.Text(in.asText()));
        else if (in.isArray()) {
            for (JsonNode e : in) {
                if (!e.isTextual()) throw ApiException.invalid("input", "'input' must be a string or an array of strings");
                inputs.add(new EmbeddingService.Text(e.asText()));
            }
        } else {
            throw ApiException.invalid("input", "'input' must be a string or an array of strings");
        }
        boolean truncate = JsonFields.bool(body, "truncate", true);
        EmbeddingService.Result r = embed(m, inputs, truncate, "input");
        ObjectNode resp = json.createObjectNode().put("model", m.name());
        ArrayNode all = resp.putArray("embeddings");
        for (float[] v : r.vectors()) {
            ArrayNode a = all.addArray();
            for (float f : v) a.add(f);
        }
        resp.put("total_duration", System.nanoTime() - t0).put("load_duration", r.loadNanos()).put("prompt_eval_count", r.totalTokens());
        RequestFacts.record(ctx, m.name(), r.totalTokens(), 0);
        ctx.json(resp);
    }

    /** Ollama's older {@code /api/embeddings}: one {@code prompt}, one {@code embedding}. */
    public void ollamaEmbeddings(Context ctx, JsonNode body) {
        Target m = model(JsonFields.string(body, "model", null));
        String prompt = JsonFields.string(body, "prompt", null);
        if (prompt == null) throw ApiException.invalid("prompt", "'prompt' is required");
        ObjectNode resp = json.createObjectNode();
        ArrayNode a = resp.putArray("embedding");
        if (prompt.isEmpty()) {
            ctx.json(resp); // as Ollama: an empty prompt gives an empty embedding
            return;
        }
        EmbeddingService.Result r = embed(m, List.of(new EmbeddingService.Text(prompt)), true, "prompt");
        for (float f : r.vectors()[0]) a.add(f);
        RequestFacts.record(ctx, m.name(), r.totalTokens(), 0);
        ctx.json(resp);
    }
}
