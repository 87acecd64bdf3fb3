package dev.freehold.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.freehold.core.format.ModelFormatException;
import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.format.hf.HfTokenizerConverter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Builds tokenizers from a GGUF file, GGUF metadata, or a Hugging Face {@code tokenizer.json}. */
public final class Tokenizers {
    private static final long MAX_TOKENIZER_JSON_BYTES = 256L << 20;

    private Tokenizers() {
    }

    public static Tokenizer fromMetadata(Map<String, GgufValue> metadata) {
        return new Tokenizer(Vocabulary.fromMetadata(metadata));
    }

    public static Tokenizer fromGguf(GgufFile file) {
        try {
            return fromMetadata(file.metadata());
        } catch (TokenizerException e) {
            throw new ModelFormatException(file.path(), "tokenizer", -1, e.getMessage());
        }
    }

    /**
     * From GPT-2-style files: {@code encoder.json} (piece to id) and {@code vocab.bpe} (merges, one per line, an
     * optional {@code #version} header). They name no pre-tokenizer, so the caller says which (e.g. {@code llama-bpe}).
     */
    public static Tokenizer fromGpt2Files(Path encoderJson, Path vocabBpe, String pre) throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode enc;
        try {
            enc = json.readTree(encoderJson.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ModelFormatException(encoderJson, "json", -1, "invalid JSON: " + e.getOriginalMessage());
        }
        int n = 0;
        for (JsonNode id : enc) n = Math.max(n, id.asInt() + 1);
        if (n <= 0 || n > 4_000_000) throw new ModelFormatException(encoderJson, "no plausible vocabulary in this file");
        String[] tokens = new String[n];
        long[] types = new long[n];
        java.util.Arrays.fill(types, dev.freehold.core.model.TokenType.NORMAL.id());
        enc.fields().forEachRemaining(e -> tokens[e.getValue().asInt()] = e.getKey());
        for (int i = 0; i < n; i++) {
            if (tokens[i] == null) {
                tokens[i] = "[PAD" + i + "]";
                types[i] = dev.freehold.core.model.TokenType.UNUSED.id();
            }
        }
        java.util.List<String> merges = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(vocabBpe)) {
            if (line.isEmpty() || line.startsWith("#version")) continue;
            merges.add(line);
        }
        Map<String, GgufValue> md = new java.util.LinkedHashMap<>();
        md.put("tokenizer.ggml.model", GgufValue.ofString("gpt2"));
        md.put("tokenizer.ggml.pre", GgufValue.ofString(pre));
        md.put("tokenizer.ggml.tokens", GgufValue.ofStrings(tokens));
        md.put("tokenizer.ggml.token_type", GgufValue.ofInts(dev.freehold.core.format.gguf.GgufValueType.INT32, types));
        md.put("tokenizer.ggml.merges", GgufValue.ofStrings(merges.toArray(String[]::new)));
        md.put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(false));
        return fromMetadata(md);
    }

    /**
     * From a Hugging Face {@code tokenizer.json} (with {@code tokenizer_config.json} beside it when present), by way
     * of the same conversion {@code freehold convert} applies, so a tokenizer behaves the same before and after.
     */
    public static Tokenizer fromHuggingFace(Path tokenizerJson) throws IOException {
        Path file = Files.isDirectory(tokenizerJson) ? tokenizerJson.resolve("tokenizer.json") : tokenizerJson;
        if (!Files.isRegularFile(file)) throw new ModelFormatException(file, "no tokenizer.json here");
        if (Files.size(file) > MAX_TOKENIZER_JSON_BYTES) throw new ModelFormatException(file, "file", 0, "too large for a tokenizer");
        ObjectMapper json = new ObjectMapper();
        JsonNode tok;
        try {
            tok = json.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ModelFormatException(file, "json", -1, "invalid JSON: " + e.getOriginalMessage());
        }
        Path configFile = file.resolveSibling("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(configFile) ? json.readTree(configFile.toFile()) : json.createObjectNode();
        Path modelConfig = file.resolveSibling("config.json");
        JsonNode model = Files.isRegularFile(modelConfig) ? json.readTree(modelConfig.toFile()) : json.createObjectNode();
        try {
            return fromMetadata(HfTokenizerConverter.convert(file, tok, config, model, model.path("vocab_size").asInt(0)).metadata());
        } catch (TokenizerException e) {
            throw new ModelFormatException(file, "tokenizer", -1, e.getMessage());
        }
    }
}
