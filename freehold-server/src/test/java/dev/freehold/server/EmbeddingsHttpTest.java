package dev.freehold.server;

import static dev.freehold.server.TestServer.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.freehold.core.embed.BundledEmbeddingModels;
import dev.freehold.core.infer.BertEncoder;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.util.ProgressListener;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Embeddings over OpenAI's and Ollama's APIs with the bundled all-minilm, checked raw and with LangChain4j's clients. */
class EmbeddingsHttpTest {
    static TestServer server;
    static BertEncoder direct;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.random();
        direct = BertEncoder.load(BundledEmbeddingModels.gguf("all-minilm", ProgressListener.NONE).orElseThrow(),
                new EngineOptions(2, EngineOptions.KvCacheType.F32));
    }

    @AfterAll
    static void stop() {
        server.close();
        direct.close();
    }

    static float[] expected(String text) {
        return direct.embed(List.of(direct.tokenize(text).ids()), BertEncoder.Pooling.MEAN, true)[0];
    }

    static float[] floats(JsonNode arr) {
        float[] v = new float[arr.size()];
        for (int i = 0; i < v.length; i++) v[i] = arr.get(i).floatValue();
        return v;
    }

    @Test
    void openAiEmbeddingsHaveOpenAisShapeAndTheEncodersVectors() throws Exception {
        HttpResponse<String> r = server.post("/v1/embeddings", "{\"model\":\"all-minilm\",\"input\":[\"The cat sat on the mat\",\"Quarterly revenue grew\"]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode b = json(r.body());
        assertThat(b.get("object").asText()).isEqualTo("list");
        assertThat(b.get("model").asText()).isEqualTo("all-minilm");
        assertThat(b.get("data")).hasSize(2);
        JsonNode first = b.get("data").get(0);
        assertThat(first.get("object").asText()).isEqualTo("embedding");
        assertThat(first.get("index").asInt()).isZero();
        assertThat(floats(first.get("embedding"))).containsExactly(expected("The cat sat on the mat"));
        assertThat(floats(b.get("data").get(1).get("embedding"))).containsExactly(expected("Quarterly revenue grew"));
        int tokens = direct.tokenize("The cat sat on the mat").ids().length + direct.tokenize("Quarterly revenue grew").ids().length;
        assertThat(b.get("usage").get("prompt_tokens").asInt()).isEqualTo(tokens);
        assertThat(b.get("usage").get("total_tokens").asInt()).isEqualTo(tokens);
    }

    @Test
    void base64IsTheLittleEndianFloats() throws Exception {
        JsonNode f = json(server.post("/v1/embeddings", "{\"model\":\"all-minilm\",\"input\":\"hello\"}").body());
        JsonNode b = json(server.post("/v1/embeddings", "{\"model\":\"all-minilm\",\"input\":\"hello\",\"encoding_format\":\"base64\",\"dimensions\":384}").body());
        ByteBuffer buf = ByteBuffer.wrap(Base64.getDecoder().decode(b.get("data").get(0).get("embedding").asText())).order(ByteOrder.LITTLE_ENDIAN);
        float[] decoded = new float[buf.remaining() / 4];
        for (int i = 0; i < decoded.length; i++) decoded[i] = buf.getFloat();
        assertThat(decoded).containsExactly(floats(f.get("data").get(0).get("embedding")));
    }

    @Test
    void tokenIdInputsAreEmbeddedAsGiven() throws Exception {
        int[] ids = direct.tokenize("token ids work too").ids();
        String arr = java.util.Arrays.toString(ids);
        JsonNode b = json(server.post("/v1/embeddings", "{\"model\":\"all-minilm\",\"input\":" + arr + "}").body());
        assertThat(floats(b.get("data").get(0).get("embedding"))).containsExactly(expected("token ids work too"));
    }

    @Test
    void badEmbeddingRequestsAreRefusedClearly() throws Exception {
        record Case(String path, String body, int status) {
        }
        for (Case c : List.of(
                new Case("/v1/embeddings", "{\"model\":\"all-minilm\",\"input\":\"\"}", 400),
                new Case("/v1/embeddings", "{\"model\":\"all-minilm\",\"input\":[]}", 400),
                new Case("/v1/embeddings", "{\"model\":\"all-minilm\"}", 400),
                new Case("/v1/embeddings", "{\"model\":\"all-minilm\",\"input\":\"x\",\"dimensions\":128}", 400),
                new Case("/v1/embeddings", "{\"model\":\"all-minilm\",\"input\":\"x\",\"encoding_format\":\"int8\"}", 400),
                new Case("/v1/embeddings", "{\"model\":\"all-minilm\",\"input\":[1,999999]}", 400),
                new Case("/v1/embeddings", "{\"model\":\"nope\",\"input\":\"x\"}", 404),
                new Case("/api/embed", "{\"model\":\"all-minilm\",\"input\":\"" + "word ".repeat(300) + "\",\"truncate\":false}", 400),
                new Case("/api/embed", "{\"model\":\"all-minilm\",\"input\":5}", 400))) {
            HttpResponse<String> r = server.post(c.path(), c.body());
            assertThat(r.statusCode()).as(c.body().length() > 120 ? c.body().substring(0, 120) : c.body()).isEqualTo(c.status());
        }
        JsonNode err = json(server.post("/v1/embeddings", "{\"model\":\"all-minilm\",\"input\":\"x\",\"dimensions\":128}").body()).get("error");
        assertThat(err.get("param").asText()).isEqualTo("dimensions");
        assertThat(err.get("message").asText()).contains("384");
    }

    @Test
    void ollamaEmbedAndTheOlderEmbeddings() throws Exception {
        JsonNode e = json(server.post("/api/embed", "{\"model\":\"all-minilm\",\"input\":[\"a dog\",\"a cat\"]}").body());
        assertThat(e.get("model").asText()).isEqualTo("all-minilm");
        assertThat(e.get("embeddings")).hasSize(2);
        assertThat(floats(e.get("embeddings").get(1))).containsExactly(expected("a cat"));
        assertThat(e.get("prompt_eval_count").asInt()).isPositive();
        assertThat(e.get("total_duration").asLong()).isPositive();
        JsonNode long1 = json(server.post("/api/embed", "{\"model\":\"all-minilm:latest\",\"input\":\"" + "word ".repeat(300) + "\"}").body());
        assertThat(long1.get("embeddings")).hasSize(1); // truncated by default
        JsonNode old = json(server.post("/api/embeddings", "{\"model\":\"all-minilm\",\"prompt\":\"a dog\"}").body());
        assertThat(floats(old.get("embedding"))).containsExactly(expected("a dog"));
    }

    /** A text generation model embeds too (mean pooling, as llama.cpp): the same vector as the engine gives directly. */
    @Test
    void aDecoderModelEmbedsThroughItsScheduler() throws Exception {
        JsonNode b = json(server.post("/v1/embeddings", "{\"model\":\"random\",\"input\":[\"hello there\",\"general kenobi\"]}").body());
        assertThat(b.get("data")).hasSize(2);
        try (var engine = dev.freehold.core.infer.Engine.load(TestModels.randomLlama(), new EngineOptions(2, EngineOptions.KvCacheType.F32))) {
            float[] direct = engine.embed(engine.tokenizer().encode("general kenobi", true, false), dev.freehold.core.infer.Engine.Pooling.MEAN, true);
            assertThat(floats(b.get("data").get(1).get("embedding"))).containsExactly(direct);
        }
        // while a generation runs on the same model
        var gen = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return server.post("/v1/chat/completions", "{\"model\":\"random\",\"max_tokens\":200,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}").statusCode();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        JsonNode e = json(server.post("/api/embed", "{\"model\":\"random\",\"input\":\"general kenobi\"}").body());
        assertThat(floats(e.get("embeddings").get(0))).containsExactly(floats(b.get("data").get(1).get("embedding")));
        assertThat(gen.get()).isEqualTo(200);
    }

    @Test
    void embeddingModelsAreListed() throws Exception {
        assertThat(server.get("/v1/models").body()).contains("\"id\":\"all-minilm\"");
        assertThat(server.get("/v1/models/all-minilm").statusCode()).isEqualTo(200);
        assertThat(server.get("/api/tags").body()).contains("\"name\":\"all-minilm\"");
    }

    @Test
    void langChain4jEmbeddingClients() {
        OpenAiEmbeddingModel openai = OpenAiEmbeddingModel.builder().baseUrl(server.base() + "/v1").apiKey("unused").modelName("all-minilm").build();
        List<Embedding> viaOpenAi = openai.embedAll(List.of(TextSegment.from("The cat sat on the mat"), TextSegment.from("Stocks fell"))).content();
        assertThat(viaOpenAi).hasSize(2);
        assertThat(viaOpenAi.get(0).vector()).containsExactly(expected("The cat sat on the mat"));
        assertThat(openai.dimension()).isEqualTo(384);
        OllamaEmbeddingModel ollama = OllamaEmbeddingModel.builder().baseUrl(server.base()).modelName("all-minilm").build();
        Embedding viaOllama = ollama.embed("Stocks fell").content();
        assertThat(viaOllama.vector()).containsExactly(expected("Stocks fell"));
    }
}
