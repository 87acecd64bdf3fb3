package dev.freehold.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.format.gguf.GgufValueType;
import dev.freehold.core.testing.SharedData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TokenizerTest {

    static Tokenizer gguf(String relative) throws Exception {
        try (GgufFile g = GgufFile.open(SharedData.require(relative))) {
            return Tokenizers.fromGguf(g);
        }
    }

    @Test
    void stories260kEncodesOnceUponATimeAsLlama2cDoes() throws Exception {
        Tokenizer tok = gguf("llama2c-stories260K/stories260K.gguf");
        assertThat(tok.encode("Once upon a time", true, false)).containsExactly(1, 403, 407, 261, 378);
        // As llama.cpp's detokenize: the leading space is stripped from the first token only, and a BOS counts as
        // that first token, so after BOS the space stays (run.c-style output strips it in the engine, not here).
        assertThat(tok.decode(new int[] {403, 407, 261, 378})).isEqualTo("Once upon a time");
        assertThat(tok.decode(new int[] {1, 403, 407, 261, 378})).isEqualTo(" Once upon a time");
    }

    @Test
    void specialTokensAreRecognisedOnlyWhenAsked() throws Exception {
        Tokenizer tok = Tokenizers.fromHuggingFace(SharedData.require("tokenizer-llama3-hf/tokenizer.json"));
        int[] parsed = tok.encode("<|start_header_id|>user<|end_header_id|>", false, true);
        assertThat(parsed).containsExactly(128006, 882, 128007);
        int[] literal = tok.encode("<|start_header_id|>user", false, false);
        assertThat(literal).doesNotContain(128006).hasSizeGreaterThan(3);
        assertThat(tok.encode("hi", true, false)).startsWith(128000);
        assertThat(tok.vocabulary().endOfGeneration()).contains(128001, 128009);
        assertThat(new String(tok.decodeBytes(parsed, false, true), StandardCharsets.UTF_8))
                .isEqualTo("<|start_header_id|>user<|end_header_id|>");
        assertThat(tok.decode(parsed)).isEqualTo("user");
    }

    @Test
    void decodingRoundTripsAndStreamsWholeCharactersOnly() throws Exception {
        List<Tokenizer> tokenizers = List.of(gguf("llama-cpp-vocab/ggml-vocab-llama-spm.gguf"),
                Tokenizers.fromHuggingFace(SharedData.require("tokenizer-llama3-hf/tokenizer.json")),
                gguf("llama-cpp-vocab/ggml-vocab-gpt-2.gguf"));
        String[] texts = {"Hello world", "  two  spaces", "émoji 🦙🚀 and 中文字符 mixed", "code: if (x != 0) { return y; }\n\ttab",
                "Ünïcödé ß ﬁ", "1234567890 3.14159", "We're sure it's fine, isn't it?"};
        for (Tokenizer tok : tokenizers) {
            for (String text : texts) {
                int[] ids = tok.encode(text, false, false);
                String full = tok.decode(ids);
                if (tok.vocabulary().kind() != Vocabulary.Kind.BPE || !tok.vocabulary().model().equals("gpt2")
                        || tok.vocabulary().preTokenizer() == null) {
                    assertThat(full).as("round trip of %s with %s", text, tok.vocabulary().model()).isEqualTo(text);
                }
                // Streaming one token at a time gives the same text, and never a broken character.
                IncrementalDecoder d = tok.newDecoder(true);
                StringBuilder streamed = new StringBuilder();
                for (int id : ids) {
                    String part = d.add(id);
                    assertThat(part).doesNotContain("\uFFFD");
                    streamed.append(part);
                }
                streamed.append(d.flush());
                assertThat(streamed.toString()).as("streamed %s", text).isEqualTo(full);
            }
        }
    }

    @Test
    void badInputGivesClearErrors() throws Exception {
        Tokenizer tok = gguf("llama2c-stories260K/stories260K.gguf");
        assertThatThrownBy(() -> tok.encode("bad \uD800 surrogate", false, false)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("unpaired surrogate at index 4");
        assertThatThrownBy(() -> tok.decode(new int[] {1, 512})).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("token id 512 is outside the vocabulary (0..511)");
        assertThatThrownBy(() -> tok.decode(new int[] {-3})).hasMessageContaining("-3");

        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.model", GgufValue.ofString("gpt2"));
        md.put("tokenizer.ggml.pre", GgufValue.ofString("gpt-2"));
        md.put("tokenizer.ggml.tokens", GgufValue.ofStrings(new String[] {"a", "b", "ab", "a"}));
        md.put("tokenizer.ggml.merges", GgufValue.ofStrings(new String[] {"a b"}));
        assertThatThrownBy(() -> Tokenizers.fromMetadata(md)).hasMessageContaining("the piece 'a' twice, at ids 0 and 3");
        md.put("tokenizer.ggml.tokens", GgufValue.ofStrings(new String[] {"a", "b", "ab", ""}));
        md.put("tokenizer.ggml.token_type", GgufValue.ofInts(GgufValueType.INT32, new long[] {1, 1, 1, 1}));
        assertThatThrownBy(() -> Tokenizers.fromMetadata(md)).hasMessageContaining("empty pieces at ids [3]");
        md.put("tokenizer.ggml.tokens", GgufValue.ofStrings(new String[] {"a", "b", "ab", "c"}));
        md.put("tokenizer.ggml.merges", GgufValue.ofStrings(new String[] {"a b", "ab x"}));
        assertThatThrownBy(() -> Tokenizers.fromMetadata(md)).hasMessageContaining("merge #1 'ab x' names 'x'");
        md.put("tokenizer.ggml.pre", GgufValue.ofString("klingon"));
        assertThatThrownBy(() -> Tokenizers.fromMetadata(md)).hasMessageContaining("pre-tokenizer 'klingon' is not supported");
        md.put("tokenizer.ggml.model", GgufValue.ofString("t5"));
        assertThatThrownBy(() -> Tokenizers.fromMetadata(md)).hasMessageContaining("tokenizer kind 't5' is not supported");
    }

    @Test
    void vocabulariesWithoutVectorsLoadAndRoundTrip() throws Exception {
        // baichuan (SentencePiece, 64k) and gpt-neox (byte-level BPE) ship without test vectors: they must load,
        // and text must survive encode + decode.
        for (String name : List.of("baichuan", "gpt-neox")) {
            Tokenizer tok = gguf("llama-cpp-vocab/ggml-vocab-" + name + ".gguf");
            String text = "Hello world, 12345 — naïve café 🦙 中文";
            assertThat(tok.decode(tok.encode(text, false, false))).as(name).isEqualTo(text);
        }
    }

    @Test
    void unsupportedTokenizerJsonIsRefusedClearly(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path f = java.nio.file.Files.writeString(tmp.resolve("tokenizer.json"),
                "{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", -1.0]]}}");
        assertThatThrownBy(() -> Tokenizers.fromHuggingFace(f)).isInstanceOf(dev.freehold.core.format.ModelFormatException.class)
                .hasMessageContaining("tokenizer kind 'Unigram' is not supported");
        java.nio.file.Files.writeString(f, "{not json");
        assertThatThrownBy(() -> Tokenizers.fromHuggingFace(f)).hasMessageContaining("invalid JSON");
    }

    @Test
    void qwen2PreTokenizerSplitsDigitsSinglyAndOtherwiseLikeLlama3() {
        PreTokenizer qwen = PreTokenizer.forName("qwen2");
        PreTokenizer llama = PreTokenizer.forName("llama-bpe");
        assertThat(qwen.split("12345".codePoints().toArray())).containsExactly("1", "2", "3", "4", "5");
        assertThat(llama.split("12345".codePoints().toArray())).containsExactly("123", "45");
        assertThat(qwen.split("I'm here: ok?!  \n\n x".codePoints().toArray()))
                .containsExactly("I", "'m", " here", ":", " ok", "?!", "  \n\n", " x");
        // Apart from digits, Qwen2's regex is Llama 3's: compare on the texts of llama.cpp's qwen2 vectors.
        List<String> texts = new ArrayList<>(List.of("Hello world", " Hello World!", "ÀÉÎÕÜ 中文 🦙🦙 'S 'LL", "\t\n \r\n  x", "a1b22c333"));
        for (String t : texts) {
            List<String> q = qwen.split(t.codePoints().toArray());
            List<String> l = llama.split(t.replaceAll("[0-9]", "").codePoints().toArray());
            assertThat(String.join("", q)).isEqualTo(t);
            if (!t.matches(".*[0-9].*")) assertThat(q).isEqualTo(l);
        }
    }
}
