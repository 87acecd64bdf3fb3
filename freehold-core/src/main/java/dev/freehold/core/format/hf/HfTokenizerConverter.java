package dev.freehold.core.format.hf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.freehold.core.format.ModelFormatException;
import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.format.gguf.GgufValueType;
import dev.freehold.core.model.GgufKeys;
import dev.freehold.core.model.TokenType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a Hugging Face {@code tokenizer.json} (+ {@code tokenizer_config.json}) into llama.cpp's
 * {@code tokenizer.ggml.*} metadata:
 * <ul>
 * <li>byte-level BPE (Llama 3, Qwen2, GPT-2 style) becomes model {@code gpt2} with tokens, token types, merges and
 * a pre-tokenizer name recognised from the Split regex;</li>
 * <li>BPE with byte fallback (SentencePiece-converted: Llama 2, Mistral) becomes model {@code llama} with tokens,
 * token types and scores (minus the merge rank that produces each piece, which orders merges as SentencePiece does).</li>
 * </ul>
 * Token types follow llama.cpp's converter: special added tokens CONTROL, other added tokens USER_DEFINED,
 * ids missing from the vocabulary become {@code [PADn]} UNUSED.
 */
public final class HfTokenizerConverter {
    static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private HfTokenizerConverter() {
    }

    /** The result: metadata in llama.cpp's key order, and notes worth telling the user. */
    public record Result(Map<String, GgufValue> metadata, List<String> notes) {
    }

    public static Result convert(Path file, JsonNode tokenizer, JsonNode tokenizerConfig, JsonNode config, int vocabSize) {
        JsonNode model = tokenizer.path("model");
        String type = model.path("type").asText("");
        if (type.equals("WordPiece")) {
            return convertWordPiece(file, tokenizer, tokenizerConfig, vocabSize);
        }
        if (!type.equals("BPE")) {
            throw new ModelFormatException(file, "model.type", -1, "tokenizer kind '" + type
                    + "' is not supported for import yet (supported: BPE, byte-level or with byte fallback; WordPiece)");
        }
        JsonNode vocab = model.path("vocab");
        if (!vocab.isObject()) {
            throw new ModelFormatException(file, "model.vocab", -1, "missing or not an object");
        }
        boolean byteLevel = mentionsByteLevel(tokenizer.path("pre_tokenizer")) || mentionsByteLevel(tokenizer.path("decoder"));
        boolean byteFallback = model.path("byte_fallback").asBoolean(false);
        if (!byteLevel && !byteFallback) {
            throw new ModelFormatException(file, "model", -1, "a BPE tokenizer that is neither byte-level nor byte-fallback is not supported");
        }

        int maxId = -1;
        for (Iterator<JsonNode> it = vocab.elements(); it.hasNext(); ) maxId = Math.max(maxId, it.next().asInt(-1));
        Map<Integer, JsonNode> added = new HashMap<>();
        for (JsonNode a : tokenizer.path("added_tokens")) {
            added.put(a.path("id").asInt(-1), a);
            maxId = Math.max(maxId, a.path("id").asInt(-1));
        }
        int n = Math.max(vocabSize, maxId + 1);
        if (n > 4_000_000) {
            throw new ModelFormatException(file, "model.vocab", -1, "a vocabulary of " + n + " tokens is not plausible");
        }
        String[] tokens = new String[n];
        long[] types = new long[n];
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = e.getValue().asInt(-1);
            if (id < 0) throw new ModelFormatException(file, "model.vocab", -1, "token " + e.getKey() + " has no valid id");
            if (tokens[id] != null) {
                throw new ModelFormatException(file, "model.vocab", -1, "id %d is given to both '%s' and '%s'".formatted(id, tokens[id], e.getKey()));
            }
            tokens[id] = e.getKey();
            types[id] = TokenType.NORMAL.id();
        }
        for (Map.Entry<Integer, JsonNode> e : added.entrySet()) {
            int id = e.getKey();
            if (id < 0) continue;
            tokens[id] = e.getValue().path("content").asText();
            types[id] = e.getValue().path("special").asBoolean(false) ? TokenType.CONTROL.id() : TokenType.USER_DEFINED.id();
        }
        int padded = 0;
        for (int i = 0; i < n; i++) {
            if (tokens[i] == null) {
                tokens[i] = "[PAD" + i + "]";
                types[i] = TokenType.UNUSED.id();
                padded++;
            }
        }

        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            if (m.isTextual()) {
                merges.add(m.asText());
            } else if (m.isArray() && m.size() == 2) {
                merges.add(m.get(0).asText() + " " + m.get(1).asText());
            } else {
                throw new ModelFormatException(file, "model.merges", -1, "merge entry " + m + " is neither \"a b\" nor [a, b]");
            }
        }

        List<String> notes = new ArrayList<>();
        if (padded > 0) notes.add(padded + " ids missing from the vocabulary were filled with [PADn] tokens");
        Map<String, GgufValue> m = new LinkedHashMap<>();
        if (byteLevel) {
            String pre = preTokenizerName(tokenizer.path("pre_tokenizer"));
            if (pre.equals("default")) notes.add("pre-tokenizer not recognised; llama.cpp will use its default split");
            m.put(GgufKeys.TOKENIZER_MODEL, GgufValue.ofString("gpt2"));
            m.put(GgufKeys.TOKENIZER_PRE, GgufValue.ofString(pre));
            m.put(GgufKeys.TOKENIZER_TOKENS, GgufValue.ofStrings(tokens));
            m.put(GgufKeys.TOKENIZER_TOKEN_TYPE, GgufValue.ofInts(GgufValueType.INT32, types));
            m.put(GgufKeys.TOKENIZER_MERGES, GgufValue.ofStrings(merges.toArray(String[]::new)));
        } else {
            float[] scores = new float[n];
            Map<String, Integer> rankOfResult = new HashMap<>();
            for (int r = 0; r < merges.size(); r++) {
                rankOfResult.putIfAbsent(merges.get(r).replace(" ", ""), r);
            }
            String unk = model.path("unk_token").asText("<unk>");
            for (int i = 0; i < n; i++) {
                if (types[i] == TokenType.NORMAL.id()) {
                    if (tokens[i].equals(unk)) {
                        types[i] = TokenType.UNKNOWN.id();
                    } else if (tokens[i].matches("<0x[0-9A-Fa-f]{2}>")) {
                        types[i] = TokenType.BYTE.id();
                    } else {
                        Integer rank = rankOfResult.get(tokens[i]);
                        scores[i] = rank == null ? -1e9f : -rank;
                    }
                }
            }
            m.put(GgufKeys.TOKENIZER_MODEL, GgufValue.ofString("llama"));
            m.put(GgufKeys.TOKENIZER_PRE, GgufValue.ofString("default"));
            m.put(GgufKeys.TOKENIZER_TOKENS, GgufValue.ofStrings(tokens));
            m.put(GgufKeys.TOKENIZER_SCORES, GgufValue.ofFloat32s(scores));
            m.put(GgufKeys.TOKENIZER_TOKEN_TYPE, GgufValue.ofInts(GgufValueType.INT32, types));
        }
        putSpecialTokens(m, tokens, tokenizerConfig, config, byteFallback);
        return new Result(m, notes);
    }

    /**
     * BERT's WordPiece, as llama.cpp's converter writes it: word-initial pieces get a {@code ▁} prefix,
     * continuation pieces lose their {@code ##}, special tokens stay as they are; model {@code bert}.
     */
    private static Result convertWordPiece(Path file, JsonNode tokenizer, JsonNode tc, int vocabSize) {
        JsonNode model = tokenizer.path("model");
        JsonNode vocab = model.path("vocab");
        if (!vocab.isObject()) throw new ModelFormatException(file, "model.vocab", -1, "missing or not an object");
        String prefix = model.path("continuing_subword_prefix").asText("##");
        Map<Integer, JsonNode> added = new HashMap<>();
        for (JsonNode a : tokenizer.path("added_tokens")) added.put(a.path("id").asInt(-1), a);
        int maxId = -1;
        for (Iterator<JsonNode> it = vocab.elements(); it.hasNext(); ) maxId = Math.max(maxId, it.next().asInt(-1));
        int n = Math.max(vocabSize, maxId + 1);
        if (n > 4_000_000) throw new ModelFormatException(file, "model.vocab", -1, "a vocabulary of " + n + " tokens is not plausible");
        String[] tokens = new String[n];
        long[] types = new long[n];
        Map<String, Integer> idOf = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = e.getValue().asInt(-1);
            if (id < 0 || id >= n) throw new ModelFormatException(file, "model.vocab", -1, "token " + e.getKey() + " has an invalid id");
            idOf.put(e.getKey(), id);
            JsonNode a = added.get(id);
            boolean special = a != null && a.path("special").asBoolean(false);
            types[id] = special ? TokenType.CONTROL.id() : TokenType.NORMAL.id();
            String t = e.getKey();
            tokens[id] = special ? t : t.startsWith(prefix) ? t.substring(prefix.length()) : "\u2581" + t;
        }
        for (int i = 0; i < n; i++) {
            if (tokens[i] == null) {
                tokens[i] = "[PAD" + i + "]";
                types[i] = TokenType.UNUSED.id();
            }
        }
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put(GgufKeys.TOKENIZER_MODEL, GgufValue.ofString("bert"));
        m.put(GgufKeys.TOKENIZER_PRE, GgufValue.ofString("default"));
        m.put(GgufKeys.TOKENIZER_TOKENS, GgufValue.ofStrings(tokens));
        m.put(GgufKeys.TOKENIZER_TOKEN_TYPE, GgufValue.ofInts(GgufValueType.INT32, types));
        String[][] specials = {{"cls_token", "[CLS]", "cls_token_id"}, {"sep_token", "[SEP]", "seperator_token_id"},
                {"unk_token", "[UNK]", "unknown_token_id"}, {"pad_token", "[PAD]", "padding_token_id"}, {"mask_token", "[MASK]", "mask_token_id"}};
        for (String[] sp : specials) {
            JsonNode v = tc.path(sp[0]);
            String text = v.isTextual() ? v.asText() : v.path("content").asText(sp[1]);
            Integer id = idOf.get(text);
            if (id != null) m.put("tokenizer.ggml." + sp[2], GgufValue.ofUInt32(id));
        }
        if (m.containsKey("tokenizer.ggml.cls_token_id")) m.put("tokenizer.ggml.bos_token_id", m.get("tokenizer.ggml.cls_token_id"));
        List<String> notes = new ArrayList<>();
        JsonNode norm = tokenizer.path("normalizer");
        if ("BertNormalizer".equals(norm.path("type").asText()) && !norm.path("lowercase").asBoolean(true)) {
            notes.add("the tokenizer is cased, but llama.cpp's WordPiece always lower-cases; ids may differ for capitals");
        }
        return new Result(m, notes);
    }

    private static boolean mentionsByteLevel(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) return false;
        if ("ByteLevel".equals(node.path("type").asText())) return true;
        for (JsonNode child : node.path("pretokenizers")) if (mentionsByteLevel(child)) return true;
        for (JsonNode child : node.path("decoders")) if (mentionsByteLevel(child)) return true;
        return false;
    }

    static String preTokenizerName(JsonNode pre) {
        List<String> regexes = new ArrayList<>();
        collectRegexes(pre, regexes);
        if (regexes.contains(LLAMA3_REGEX)) return "llama-bpe";
        if (regexes.contains(QWEN2_REGEX)) return "qwen2";
        if (regexes.isEmpty() && mentionsByteLevel(pre) && pre.path("use_regex").asBoolean(true)) return "gpt-2";
        return "default";
    }

    private static void collectRegexes(JsonNode node, List<String> out) {
        if ("Split".equals(node.path("type").asText()) && node.path("pattern").has("Regex")) {
            out.add(node.path("pattern").path("Regex").asText());
        }
        for (JsonNode child : node.path("pretokenizers")) collectRegexes(child, out);
    }

    /** bos/eos/unk/pad ids from the token strings in tokenizer_config.json (or ids in config.json), and add_bos/eos. */
    private static void putSpecialTokens(Map<String, GgufValue> m, String[] tokens, JsonNode tc, JsonNode config, boolean spm) {
        Map<String, Integer> idOf = new HashMap<>();
        for (int i = 0; i < tokens.length; i++) idOf.putIfAbsent(tokens[i], i);
        String[][] keys = {{"bos_token", "bos_token_id"}, {"eos_token", "eos_token_id"}, {"unk_token", "unknown_token_id"},
                {"pad_token", "padding_token_id"}};
        for (String[] k : keys) {
            JsonNode v = tc.path(k[0]);
            String text = v.isTextual() ? v.asText() : v.path("content").asText(null);
            Integer id = text == null ? null : idOf.get(text);
            if (id == null && config.path(k[0] + "_id").isInt()) id = config.path(k[0] + "_id").asInt();
            if (id != null && id >= 0 && id < tokens.length) {
                m.put("tokenizer.ggml." + k[1], GgufValue.ofUInt32(id));
            }
        }
        JsonNode addBos = tc.path("add_bos_token");
        if (addBos.isBoolean()) {
            m.put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(addBos.asBoolean()));
        } else if (spm) {
            m.put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(true));
        }
        JsonNode addEos = tc.path("add_eos_token");
        if (addEos.isBoolean()) m.put("tokenizer.ggml.add_eos_token", GgufValue.ofBool(addEos.asBoolean()));
        JsonNode template = tc.path("chat_template");
        if (template.isTextual()) {
            m.put(GgufKeys.CHAT_TEMPLATE, GgufValue.ofString(template.asText()));
        } else if (template.isArray()) {
            // A list of named templates: the "default" one is the chat template.
            for (JsonNode t : template) {
                if ("default".equals(t.path("name").asText())) m.put(GgufKeys.CHAT_TEMPLATE, GgufValue.ofString(t.path("template").asText()));
            }
        }
    }
}
