package dev.freehold.core.format.llama2c;

import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.format.gguf.GgufValueType;
import dev.freehold.core.model.GgufKeys;
import dev.freehold.core.model.TokenType;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds GGUF metadata for a llama2.c model the way llama.cpp's {@code convert-llama2c-to-ggml} does, so that
 * the result loads in llama.cpp and Freehold alike: architecture {@code llama}, SentencePiece-style vocabulary
 * ({@code ▁} for spaces, ids 0/1/2 as {@code <unk>}, {@code <s>}, {@code </s>}), RMS epsilon 1e-5.
 *
 * <p>One deliberate difference: {@code llama.context_length} is the checkpoint's own {@code seq_len} (the length
 * it was trained at), where llama.cpp's converter writes its default of 2048.
 */
public final class Llama2cImporter {
    private static final int UNK = 0;
    private static final int BOS = 1;
    private static final int EOS = 2;

    private Llama2cImporter() {
    }

    public static Map<String, GgufValue> metadata(Llama2cCheckpoint.Config c, Llama2cTokenizerFile tok, String name) {
        int n = c.vocabSize();
        String[] tokens = new String[n];
        long[] types = new long[n];
        for (int id = 0; id < n; id++) {
            String text = tok.pieces()[id];
            TokenType type;
            if (id == UNK) {
                text = "<unk>";
                type = TokenType.UNKNOWN;
            } else if (id == BOS) {
                text = "<s>";
                type = TokenType.CONTROL;
            } else if (id == EOS) {
                text = "</s>";
                type = TokenType.CONTROL;
            } else if (text.isEmpty()) {
                type = TokenType.CONTROL;
            } else if (text.matches("<0x[0-9A-Fa-f]{2}>")) {
                type = TokenType.BYTE;
            } else {
                type = TokenType.NORMAL;
            }
            tokens[id] = text.replace(" ", "\u2581");
            types[id] = type.id();
        }
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put(GgufKeys.TOKENIZER_TOKENS, GgufValue.ofStrings(tokens));
        m.put(GgufKeys.TOKENIZER_SCORES, GgufValue.ofFloat32s(tok.scores()));
        m.put(GgufKeys.TOKENIZER_TOKEN_TYPE, GgufValue.ofInts(GgufValueType.INT32, types));
        m.put(GgufKeys.TOKENIZER_MODEL, GgufValue.ofString("llama"));
        m.put(GgufKeys.ARCHITECTURE, GgufValue.ofString("llama"));
        m.put(GgufKeys.NAME, GgufValue.ofString(name));
        m.put(GgufKeys.FILE_TYPE, GgufValue.ofUInt32(0));
        m.put("tokenizer.ggml.unknown_token_id", GgufValue.ofUInt32(UNK));
        m.put("tokenizer.ggml.bos_token_id", GgufValue.ofUInt32(BOS));
        m.put("tokenizer.ggml.eos_token_id", GgufValue.ofUInt32(EOS));
        // llama.cpp writes "no token" (-1 as uint32) for these; kept for files byte-comparable in metadata.
        m.put("tokenizer.ggml.seperator_token_id", GgufValue.ofUInt32(0xFFFFFFFFL));
        m.put("tokenizer.ggml.padding_token_id", GgufValue.ofUInt32(0xFFFFFFFFL));
        m.put("llama.context_length", GgufValue.ofUInt32(c.seqLen()));
        m.put("llama.embedding_length", GgufValue.ofUInt32(c.dim()));
        m.put("llama.feed_forward_length", GgufValue.ofUInt32(c.hiddenDim()));
        m.put("llama.attention.head_count", GgufValue.ofUInt32(c.heads()));
        m.put("llama.attention.head_count_kv", GgufValue.ofUInt32(c.kvHeads()));
        m.put("llama.block_count", GgufValue.ofUInt32(c.layers()));
        m.put("llama.rope.dimension_count", GgufValue.ofUInt32(c.headDim()));
        m.put("llama.attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-5f));
        return m;
    }
}
