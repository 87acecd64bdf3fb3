package dev.freehold.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.format.synthetic.RandomLlamaModel;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.testing.LlamaCppOracle;
import dev.freehold.core.testing.SharedData;
import dev.freehold.core.util.ProgressListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Freehold's ids equal llama.cpp's (encode: no BOS, special tokens parsed) for hundreds of varied strings on real
 * vocabularies loaded from model files, and the pieces of those ids equal llama.cpp's.
 */
class LlamaCppTokenizerParityTest {
    private static final String[] FRAGMENTS = {
            "Hello", " world", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "1", "42", "2024", "3.14159", "1,000,000", "007",
            "def f(x):\n    return x**2", "if (a != b) { c++; }", "<div class=\"x\">", "SELECT * FROM t;", "a_b_c", "camelCase",
            "don't", "I'M", "we'll", "they've", "'s", "Straße", "naïve café", "Ελληνικά", "русский текст", "العربية", "עברית",
            "日本語のテキスト", "中文", "한국어", "हिन्दी", "ไทย", "🦙", "🚀🔥", "👨‍👩‍👧", "é", "e\u0301", "ﬁ", "Ⅻ", "½", "™", "€100",
            "...", "!!!", "?!", "—", "–", "«»", "“quoted”", "`code`", "~/path/to/file.txt", "http://example.com/?q=1&r=2",
            "<s>", "</s>", "<unk>", "<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "[INST]", "▁", "\u00A0", "\u3000"};

    static List<String> corpus(int n, long seed) {
        Random r = new Random(seed);
        List<String> texts = new ArrayList<>(List.of("", " ", "a", "Once upon a time", "   leading and trailing   "));
        while (texts.size() < n) {
            StringBuilder sb = new StringBuilder();
            int parts = 1 + r.nextInt(6);
            for (int i = 0; i < parts; i++) sb.append(FRAGMENTS[r.nextInt(FRAGMENTS.length)]);
            texts.add(sb.toString());
        }
        return texts;
    }

    @Test
    void sentencePieceVocabularyOfLlama2(@TempDir Path tmp) throws Exception {
        Path model = SharedData.require("gguf-tiny-random-llama2/llama-2-tiny-random.gguf");
        compare(model, corpus(400, 1));
    }

    @Test
    void byteLevelVocabularyOfLlama3ConvertedByFreehold(@TempDir Path tmp) throws Exception {
        // A tiny Llama 3 model with the real tokenizer, converted from a Hugging Face directory by our importer.
        Path dir = tmp.resolve("llama3");
        Files.createDirectories(dir);
        Path tokDir = SharedData.require("tokenizer-llama3-hf");
        Files.copy(tokDir.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.copy(tokDir.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var tokenizer = dev.freehold.core.format.hf.HfTokenizerConverter.convert(dir.resolve("tokenizer.json"),
                json.readTree(dir.resolve("tokenizer.json").toFile()), json.readTree(dir.resolve("tokenizer_config.json").toFile()),
                json.createObjectNode(), 128256).metadata();
        Path model = tmp.resolve("llama3.gguf");
        RandomLlamaModel.write(model, new RandomLlamaModel.Shape(32, 64, 1, 2, 1, 128256, 64, true), GgmlType.F16, 1, tokenizer,
                ProgressListener.NONE);
        compare(model, corpus(400, 2));
    }

    private static void compare(Path model, List<String> texts) throws Exception {
        Tokenizer tok;
        try (GgufFile g = GgufFile.open(model)) {
            tok = Tokenizers.fromGguf(g);
        }
        List<int[]> expected = LlamaCppOracle.encode(model, texts);
        List<int[]> ours = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            int[] got = tok.encode(texts.get(i), false, true);
            ours.add(got);
            if (!Arrays.equals(got, expected.get(i))) {
                failures.add("%s: llama.cpp %s, Freehold %s".formatted(new com.fasterxml.jackson.databind.ObjectMapper()
                        .writeValueAsString(texts.get(i)), Arrays.toString(expected.get(i)), Arrays.toString(got)));
            }
        }
        assertThat(failures).as("%d of %d texts tokenize differently", failures.size(), texts.size()).isEmpty();
        // The binding's decode concatenates token_to_piece(id, special=true): compare our pieces with it.
        List<String> decoded = LlamaCppOracle.decode(model, ours);
        for (int i = 0; i < texts.size(); i++) {
            java.io.ByteArrayOutputStream pieces = new java.io.ByteArrayOutputStream();
            for (int id : ours.get(i)) pieces.writeBytes(tok.pieceBytes(id, true));
            assertThat(pieces.toString(java.nio.charset.StandardCharsets.UTF_8)).as("pieces of %s", texts.get(i)).isEqualTo(decoded.get(i));
        }
    }
}
