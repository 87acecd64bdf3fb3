package dev.freehold.core.grammar;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import dev.freehold.core.format.synthetic.RandomLlamaModel;
import dev.freehold.core.infer.Engine;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.infer.Generator;
import dev.freehold.core.sample.GrammarConstraint;
import dev.freehold.core.sample.SamplingParams;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.testing.SharedData;
import dev.freehold.core.util.ProgressListener;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generation under a JSON schema's grammar, sampled at temperature 1 with many seeds from models that know no JSON:
 * every output that ends is parsed by Jackson and validated by an independent JSON Schema validator.
 */
class ConstrainedGenerationTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SCHEMA = """
            {"type":"object","properties":{
              "name":{"type":"string","maxLength":6},
              "kind":{"enum":["cat","dog",null]},
              "age":{"type":"integer"},
              "tags":{"type":"array","items":{"type":"string","maxLength":3},"maxItems":3},
              "ok":{"type":"boolean"}},
             "required":["name","kind"]}""";

    static int run(Path model, int seeds, int maxTokens) throws Exception {
        JsonNode schema = JSON.readTree(SCHEMA);
        Grammar grammar = Grammar.parse(JsonSchemaGrammar.toGbnf(schema));
        JsonSchema validator = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schema);
        int finished = 0;
        try (Engine engine = Engine.load(model, new EngineOptions(2, EngineOptions.KvCacheType.F32))) {
            TokenTrie trie = TokenTrie.of(engine.tokenizer());
            for (int seed = 0; seed < seeds; seed++) {
                GrammarConstraint c = new GrammarConstraint(grammar, trie, engine.tokenizer().vocabulary().endOfGeneration());
                SamplingParams p = new SamplingParams(1f, 0, 1f, 0f, 1f, 1f, 64, 0f, 0f, seed);
                int[] prompt = engine.tokenizer().encode("Once upon a time", true, false);
                Generator.Result r = Generator.generate(engine, prompt, maxTokens, engine.config().contextLength(), p, c, t -> { });
                if (r.finishReason() == Generator.FinishReason.STOP && c.isComplete()) {
                    finished++;
                    JsonNode doc;
                    try {
                        doc = JSON.readTree(r.text());
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        StringBuilder pieces = new StringBuilder();
                        for (int t : r.tokens()) pieces.append(java.util.Arrays.toString(trie.piece(t)));
                        throw new AssertionError("seed " + seed + " text " + r.text() + "\npieces " + pieces, e);
                    }
                    assertThat(validator.validate(doc)).as("seed %d: %s", seed, r.text()).isEmpty();
                } else {
                    // cut off by the token limit: still a valid prefix (the matcher accepted every token)
                    assertThat(r.tokens()).hasSize(maxTokens);
                }
            }
        }
        return finished;
    }

    @Test
    void randomWeightModelOutputsAlwaysValidate(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("random.gguf");
        RandomLlamaModel.write(model, new RandomLlamaModel.Shape(64, 128, 1, 4, 2, 400, 512, false), GgmlType.F32, 3, ProgressListener.NONE);
        int finished = run(model, 60, 250);
        System.out.printf("random-weight model: %d of 60 sampled outputs complete, all valid%n", finished);
        assertThat(finished).as("most outputs complete within 250 tokens").isGreaterThan(30);
    }

    @Test
    void stories260kOutputsAlwaysValidate() throws Exception {
        Path model = SharedData.require("llama2c-stories260K/stories260K.gguf");
        int finished = run(model, 30, 250);
        System.out.printf("stories260K: %d of 30 sampled outputs complete, all valid%n", finished);
        assertThat(finished).isGreaterThan(15);
    }
}
