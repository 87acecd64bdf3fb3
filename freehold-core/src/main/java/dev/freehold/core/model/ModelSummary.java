package dev.freehold.core.model;

import dev.freehold.core.format.ImportedModel;
import dev.freehold.core.format.convert.TensorSource;
import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.format.gguf.GgufTensorInfo;
import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.tensor.GgmlType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code freehold inspect} reports about a model: the hyper-parameters a person asks about first, the
 * tokenizer, tensor statistics by type, and the full metadata. Built from a GGUF file or any imported model.
 */
public record ModelSummary(
        String format,
        String architecture,
        String name,
        long parameters,
        Long contextLength,
        Long embeddingLength,
        Long blockCount,
        Long headCount,
        Long headCountKv,
        Long feedForwardLength,
        Long vocabSize,
        String tokenizerModel,
        String tokenizerPre,
        boolean hasChatTemplate,
        Map<GgmlType, TypeStats> tensorTypes,
        List<TensorEntry> tensors,
        Map<String, GgufValue> metadata) {

    /** Count and bytes of the tensors of one type. */
    public record TypeStats(int count, long bytes) {
    }

    public record TensorEntry(String name, GgmlType type, long[] shape, long bytes) {
    }

    public static ModelSummary of(GgufFile f) {
        List<TensorEntry> entries = new ArrayList<>();
        for (GgufTensorInfo t : f.tensors()) entries.add(new TensorEntry(t.name(), t.type(), t.shape(), t.byteSize()));
        return build("GGUF v" + f.version(), f.metadata(), entries);
    }

    /** For imported models the stored types are the source's (e.g. BF16 safetensors). */
    public static ModelSummary of(ImportedModel m) {
        List<TensorEntry> entries = new ArrayList<>();
        for (TensorSource t : m.tensors()) {
            long elements = t.rowLength() * t.rows();
            entries.add(new TensorEntry(t.name(), t.sourceType(), t.shape(), t.sourceType().bytesFor(elements)));
        }
        return build(m.format(), m.metadata(), entries);
    }

    private static ModelSummary build(String format, Map<String, GgufValue> md, List<TensorEntry> tensors) {
        String arch = string(md, GgufKeys.ARCHITECTURE).orElse("unknown");
        Map<GgmlType, TypeStats> byType = new EnumMap<>(GgmlType.class);
        long params = 0;
        for (TensorEntry t : tensors) {
            long n = 1;
            for (long d : t.shape()) n *= d;
            params += n;
            byType.merge(t.type(), new TypeStats(1, t.bytes()), (a, b) -> new TypeStats(a.count() + b.count(), a.bytes() + b.bytes()));
        }
        Long vocab = number(md, GgufKeys.arch(arch, GgufKeys.VOCAB_SIZE)).orElse(null);
        GgufValue tokens = md.get(GgufKeys.TOKENIZER_TOKENS);
        if (tokens != null && tokens.isArray()) vocab = (long) tokens.length();
        return new ModelSummary(format, arch, string(md, GgufKeys.NAME).orElse(null), params,
                number(md, GgufKeys.arch(arch, GgufKeys.CONTEXT_LENGTH)).orElse(null),
                number(md, GgufKeys.arch(arch, GgufKeys.EMBEDDING_LENGTH)).orElse(null),
                number(md, GgufKeys.arch(arch, GgufKeys.BLOCK_COUNT)).orElse(null),
                number(md, GgufKeys.arch(arch, GgufKeys.HEAD_COUNT)).orElse(null),
                number(md, GgufKeys.arch(arch, GgufKeys.HEAD_COUNT_KV)).orElse(null),
                number(md, GgufKeys.arch(arch, GgufKeys.FEED_FORWARD_LENGTH)).orElse(null),
                vocab,
                string(md, GgufKeys.TOKENIZER_MODEL).orElse(null),
                string(md, GgufKeys.TOKENIZER_PRE).orElse(null),
                md.containsKey(GgufKeys.CHAT_TEMPLATE),
                Collections.unmodifiableMap(byType), List.copyOf(tensors), Collections.unmodifiableMap(new LinkedHashMap<>(md)));
    }

    /** A person-friendly name of the tokenizer kind. */
    public String tokenizerKind() {
        if (tokenizerModel == null) return "none";
        String kind = switch (tokenizerModel) {
            case "llama" -> "SentencePiece BPE";
            case "gpt2" -> "byte-level BPE";
            case "bert" -> "WordPiece";
            case "t5" -> "SentencePiece Unigram";
            default -> tokenizerModel;
        };
        return tokenizerPre == null || tokenizerPre.equals("default") ? kind : kind + " (" + tokenizerPre + ")";
    }

    public long tensorBytes() {
        return byTypeTotal();
    }

    private long byTypeTotal() {
        long total = 0;
        for (TypeStats s : tensorTypes.values()) total += s.bytes();
        return total;
    }

    private static Optional<String> string(Map<String, GgufValue> md, String key) {
        GgufValue v = md.get(key);
        return v != null && v.value() instanceof String s ? Optional.of(s) : Optional.empty();
    }

    private static Optional<Long> number(Map<String, GgufValue> md, String key) {
        GgufValue v = md.get(key);
        return v != null && !v.isArray() && (v.value() instanceof Long || v.value() instanceof Double)
                ? Optional.of(v.asLong()) : Optional.empty();
    }
}
