package dev.freehold.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.testing.SharedData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * llama.cpp's own tokenizer test vectors ({@code ggml-vocab-*.gguf} with {@code .inp}/{@code .out}): every case of
 * every vocabulary that is present must give exactly the expected ids (no BOS, special tokens not parsed).
 */
class TokenizerVectorsTest {
    static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    record Case(String text, int[] ids) {
    }

    static List<Case> cases(Path inp, Path out) throws Exception {
        String[] texts = Files.readString(inp, StandardCharsets.UTF_8).split(SEPARATOR, -1);
        String[] lines = Files.readString(out, StandardCharsets.UTF_8).split("\n", -1);
        List<Case> cases = new ArrayList<>();
        // The files end with the separator and a newline: the last case is the empty text, which gives no tokens.
        for (int i = 0; i < Math.min(texts.length, lines.length); i++) {
            String line = lines[i].trim();
            int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" +")).mapToInt(Integer::parseInt).toArray();
            cases.add(new Case(texts[i], ids));
        }
        return cases;
    }

    static Stream<String> vocabsWithGguf() {
        return Stream.of("llama-spm", "phi-3", "bert-bge", "gpt-2", "deepseek-coder", "deepseek-llm", "falcon", "mpt", "refact", "starcoder");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vocabsWithGguf")
    void everyCaseOfLlamaCppsVectorsPasses(String name) throws Exception {
        Path dir = SharedData.require("llama-cpp-vocab");
        Tokenizer tok;
        try (GgufFile g = GgufFile.open(dir.resolve("ggml-vocab-" + name + ".gguf"))) {
            tok = Tokenizers.fromGguf(g);
        }
        assertAllCases(tok, cases(dir.resolve("ggml-vocab-" + name + ".gguf.inp"), dir.resolve("ggml-vocab-" + name + ".gguf.out")), name);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"tokenizer.json", "encoder.json"})
    void llama3VectorsPassFromHuggingFaceAndGpt2Files(String source) throws Exception {
        Path dir = SharedData.require("llama-cpp-vocab");
        Tokenizer tok = source.equals("tokenizer.json")
                ? Tokenizers.fromHuggingFace(SharedData.require("tokenizer-llama3-hf/tokenizer.json"))
                : Tokenizers.fromGpt2Files(SharedData.require("tokenizer-llama3-bpe/encoder.json"),
                        SharedData.require("tokenizer-llama3-bpe/vocab.bpe"), "llama-bpe");
        List<Case> cases = cases(dir.resolve("ggml-vocab-llama-bpe.gguf.inp"), dir.resolve("ggml-vocab-llama-bpe.gguf.out"));
        assertThat(cases).hasSize(47);
        assertAllCases(tok, cases, "llama-bpe via " + source);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"tokenizer.json", "encoder.json"})
    void llama3ReferenceEncodingsPass(String source) throws Exception {
        Tokenizer tok = source.equals("tokenizer.json")
                ? Tokenizers.fromHuggingFace(SharedData.require("tokenizer-llama3-hf/tokenizer.json"))
                : Tokenizers.fromGpt2Files(SharedData.require("tokenizer-llama3-bpe/encoder.json"),
                        SharedData.require("tokenizer-llama3-bpe/vocab.bpe"), "llama-bpe");
        JsonNode refs = new ObjectMapper().readTree(SharedData.require("tokenizer-llama3-hf/reference-encodings.json").toFile());
        List<Case> cases = new ArrayList<>();
        for (JsonNode r : refs) {
            int[] ids = new int[r.get("ids").size()];
            for (int i = 0; i < ids.length; i++) ids[i] = r.get("ids").get(i).asInt();
            cases.add(new Case(r.get("text").asText(), ids));
        }
        assertThat(cases).hasSize(161);
        assertAllCases(tok, cases, "llama3 reference encodings via " + source);
    }

    @org.junit.jupiter.api.Test
    void wordPieceFromTokenizerJsonMatchesTheGgufVectors(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        // Write a BERT tokenizer.json (HF layout: "##" continuations, no phantom spaces) from the bge GGUF vocabulary,
        // then load it the Hugging Face way: the conversion must give llama.cpp's vector results.
        Path dir = SharedData.require("llama-cpp-vocab");
        var json = new ObjectMapper();
        var root = json.createObjectNode();
        var model = root.putObject("model");
        model.put("type", "WordPiece").put("unk_token", "[UNK]").put("continuing_subword_prefix", "##");
        var vocab = model.putObject("vocab");
        var added = root.putArray("added_tokens");
        root.putObject("normalizer").put("type", "BertNormalizer").put("lowercase", true);
        try (GgufFile g = GgufFile.open(dir.resolve("ggml-vocab-bert-bge.gguf"))) {
            String[] tokens = g.get("tokenizer.ggml.tokens").orElseThrow().asStringArray();
            int[] types = g.get("tokenizer.ggml.token_type").orElseThrow().asIntArray();
            for (int i = 0; i < tokens.length; i++) {
                String t = tokens[i];
                String hf = types[i] == 3 ? t : t.startsWith("\u2581") ? t.substring(1) : "##" + t;
                vocab.put(hf, i);
                if (types[i] == 3) added.addObject().put("id", i).put("content", t).put("special", true);
            }
        }
        Path file = tmp.resolve("tokenizer.json");
        json.writeValue(file.toFile(), root);
        Tokenizer tok = Tokenizers.fromHuggingFace(file);
        assertThat(tok.vocabulary().model()).isEqualTo("bert");
        assertAllCases(tok, cases(dir.resolve("ggml-vocab-bert-bge.gguf.inp"), dir.resolve("ggml-vocab-bert-bge.gguf.out")), "bert via tokenizer.json");
        assertThat(tok.encode("Hello, world!", true, false)).startsWith(101).endsWith(102);
    }

    static void assertAllCases(Tokenizer tok, List<Case> cases, String what) {
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            int[] got = tok.encode(c.text(), false, false);
            if (!Arrays.equals(got, c.ids())) {
                failures.add("case %d %s: expected %s, got %s".formatted(i, new ObjectMapper().valueToTree(c.text()),
                        Arrays.toString(c.ids()), Arrays.toString(got)));
            }
        }
        assertThat(failures).as("%s: %d of %d cases fail", what, failures.size(), cases.size()).isEmpty();
    }
}
