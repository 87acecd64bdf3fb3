package dev.freehold.core.tokenizer;

import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.model.GgufKeys;
import dev.freehold.core.model.TokenType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A tokenizer's vocabulary as llama.cpp reads it from {@code tokenizer.ggml.*} metadata: pieces, scores, types,
 * the special token ids and the flags that change how text is encoded (add BOS/EOS, space prefix).
 */
public final class Vocabulary {
    /** Sentinel for "no such token". */
    public static final int NONE = -1;

    public enum Kind { SPM, BPE, WPM }

    final Kind kind;
    final String model;
    final String pre;
    final String[] tokens;
    final String[] merges;
    final float[] scores;
    final TokenType[] types;
    final Map<String, Integer> ids;
    final int bos;
    final int eos;
    final int eot;
    final int unk;
    final int sep;
    final int pad;
    final boolean addBos;
    final boolean addEos;
    final boolean addSpacePrefix;
    final int maxTokenLength;

    private Vocabulary(Kind kind, String model, String pre, String[] tokens, String[] merges, float[] scores, TokenType[] types, Map<String, Integer> ids,
                       int bos, int eos, int eot, int unk, int sep, int pad, boolean addBos, boolean addEos, boolean addSpacePrefix) {
        this.kind = kind;
        this.model = model;
        this.pre = pre;
        this.tokens = tokens;
        this.merges = merges;
        this.scores = scores;
        this.types = types;
        this.ids = ids;
        this.bos = bos;
        this.eos = eos;
        this.eot = eot;
        this.unk = unk;
        this.sep = sep;
        this.pad = pad;
        this.addBos = addBos;
        this.addEos = addEos;
        this.addSpacePrefix = addSpacePrefix;
        int max = 0;
        for (String t : tokens) max = Math.max(max, t.length());
        this.maxTokenLength = max;
    }

    /** Reads the vocabulary from GGUF metadata (as in a GGUF file, or produced by a converter). */
    public static Vocabulary fromMetadata(Map<String, GgufValue> md) {
        String model = string(md, GgufKeys.TOKENIZER_MODEL);
        if (model == null) throw new TokenizerException("the model has no tokenizer (no " + GgufKeys.TOKENIZER_MODEL + ")");
        Kind kind = switch (model) {
            case "llama" -> Kind.SPM;
            case "gpt2" -> Kind.BPE;
            case "bert" -> Kind.WPM;
            default -> throw new TokenizerException("tokenizer kind '" + model + "' is not supported (supported: llama, gpt2, bert)");
        };
        GgufValue tokenValue = md.get(GgufKeys.TOKENIZER_TOKENS);
        if (tokenValue == null || !(tokenValue.value() instanceof String[] tokens)) {
            throw new TokenizerException("missing or invalid " + GgufKeys.TOKENIZER_TOKENS);
        }
        int n = tokens.length;
        if (n == 0) throw new TokenizerException("the vocabulary is empty");
        float[] scores = new float[n];
        GgufValue s = md.get(GgufKeys.TOKENIZER_SCORES);
        if (s != null) {
            float[] given = s.asFloatArray();
            if (given.length != n) throw new TokenizerException("%d scores for %d tokens".formatted(given.length, n));
            scores = given;
        }
        TokenType[] types = new TokenType[n];
        Arrays.fill(types, TokenType.NORMAL);
        GgufValue t = md.get(GgufKeys.TOKENIZER_TOKEN_TYPE);
        if (t != null) {
            int[] given = t.asIntArray();
            if (given.length != n) throw new TokenizerException("%d token types for %d tokens".formatted(given.length, n));
            for (int i = 0; i < n; i++) types[i] = TokenType.byId(given[i]);
        }
        Map<String, Integer> ids = new HashMap<>(n * 2);
        List<Integer> empty = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (tokens[i].isEmpty() && types[i] != TokenType.CONTROL && types[i] != TokenType.UNUSED) empty.add(i);
            Integer previous = ids.put(tokens[i], i);
            if (previous != null && !tokens[i].isEmpty()) {
                // llama.cpp silently keeps the later id; a vocabulary like that encodes text ambiguously.
                throw new TokenizerException("the vocabulary holds the piece '%s' twice, at ids %d and %d".formatted(
                        dev.freehold.core.format.ModelFormatException.printable(tokens[i]), previous, i));
            }
        }
        if (!empty.isEmpty()) {
            throw new TokenizerException("the vocabulary has empty pieces at ids " + empty.subList(0, Math.min(5, empty.size())));
        }
        boolean spm = kind == Kind.SPM;
        boolean wpm = kind == Kind.WPM;
        int bos = id(md, "tokenizer.ggml.bos_token_id", spm ? 1 : wpm ? 101 : 11, n);
        if (wpm && md.containsKey("tokenizer.ggml.cls_token_id")) bos = id(md, "tokenizer.ggml.cls_token_id", bos, n);
        int eos = id(md, "tokenizer.ggml.eos_token_id", spm ? 2 : wpm ? NONE : 11, n);
        int unk = id(md, "tokenizer.ggml.unknown_token_id", spm ? 0 : wpm ? 100 : NONE, n);
        int sep = id(md, "tokenizer.ggml.seperator_token_id", wpm ? 102 : NONE, n);
        int pad = id(md, "tokenizer.ggml.padding_token_id", wpm ? 0 : NONE, n);
        int eot = id(md, "tokenizer.ggml.eot_token_id", NONE, n);
        String pre = string(md, GgufKeys.TOKENIZER_PRE);
        boolean addBos = switch (kind) {
            case SPM, WPM -> true;
            case BPE -> pre != null && Set.of("llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral", "tekken").contains(pre);
        };
        boolean addEos = false;
        boolean addSpacePrefix = spm;
        if (md.get("tokenizer.ggml.add_bos_token") != null) addBos = md.get("tokenizer.ggml.add_bos_token").asBool();
        if (md.get("tokenizer.ggml.add_eos_token") != null) addEos = md.get("tokenizer.ggml.add_eos_token").asBool();
        if (md.get("tokenizer.ggml.add_space_prefix") != null) addSpacePrefix = md.get("tokenizer.ggml.add_space_prefix").asBool();
        if (addBos && bos == NONE) throw new TokenizerException("add_bos_token is set but the vocabulary has no BOS token");
        String[] merges = kind == Kind.BPE ? BpeAlgorithm.merges(md) : new String[0];
        return new Vocabulary(kind, model, pre, tokens, merges, scores, types, ids, bos, eos, eot, unk, sep, pad, addBos, addEos, addSpacePrefix);
    }

    private static String string(Map<String, GgufValue> md, String key) {
        GgufValue v = md.get(key);
        return v != null && v.value() instanceof String s ? s : null;
    }

    /** A special token id from metadata; llama.cpp's "no token" (-1 as uint32) and out-of-range ids mean none. */
    private static int id(Map<String, GgufValue> md, String key, int fallback, int n) {
        GgufValue v = md.get(key);
        if (v == null) return fallback < n ? fallback : NONE;
        long id = v.asLong();
        return id >= 0 && id < n ? (int) id : NONE;
    }

    public Kind kind() {
        return kind;
    }

    /** {@code tokenizer.ggml.model}: llama, gpt2 or bert. */
    public String model() {
        return model;
    }

    /** {@code tokenizer.ggml.pre}, or null. */
    public String preTokenizer() {
        return pre;
    }

    public int size() {
        return tokens.length;
    }

    public String piece(int id) {
        return tokens[check(id)];
    }

    public float score(int id) {
        return scores[check(id)];
    }

    public TokenType type(int id) {
        return types[check(id)];
    }

    /** The id of a piece, or {@link #NONE}. */
    public int id(String piece) {
        Integer id = ids.get(piece);
        return id == null ? NONE : id;
    }

    public int bos() {
        return bos;
    }

    public int eos() {
        return eos;
    }

    public int unk() {
        return unk;
    }

    public boolean addBos() {
        return addBos;
    }

    public boolean addEos() {
        return addEos;
    }

    /** Tokens that end a generation: EOS, EOT and the end-of-turn markers of common chat formats. */
    public Set<Integer> endOfGeneration() {
        Set<Integer> eog = new TreeSet<>();
        if (eos != NONE) eog.add(eos);
        if (eot != NONE) eog.add(eot);
        for (String marker : List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "</s>")) {
            int id = id(marker);
            if (id != NONE && (types[id] == TokenType.CONTROL || types[id] == TokenType.USER_DEFINED)) eog.add(id);
        }
        return eog;
    }

    boolean isSpecial(int id) {
        TokenType t = types[id];
        return t == TokenType.CONTROL || t == TokenType.UNKNOWN || t == TokenType.USER_DEFINED;
    }

    int check(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new TokenizerException("token id %d is outside the vocabulary (0..%d)".formatted(id, tokens.length - 1));
        }
        return id;
    }
}
