package dev.freehold.core.model;

/** Metadata keys of GGUF files as llama.cpp names them. Per-architecture keys are built with {@link #arch}. */
public final class GgufKeys {
    private GgufKeys() {
    }

    public static final String ARCHITECTURE = "general.architecture";
    public static final String NAME = "general.name";
    public static final String FILE_TYPE = "general.file_type";
    public static final String QUANTIZATION_VERSION = "general.quantization_version";
    public static final String ALIGNMENT = "general.alignment";

    public static final String CONTEXT_LENGTH = "context_length";
    public static final String EMBEDDING_LENGTH = "embedding_length";
    public static final String FEED_FORWARD_LENGTH = "feed_forward_length";
    public static final String BLOCK_COUNT = "block_count";
    public static final String HEAD_COUNT = "attention.head_count";
    public static final String HEAD_COUNT_KV = "attention.head_count_kv";
    public static final String RMS_EPS = "attention.layer_norm_rms_epsilon";
    public static final String LAYER_NORM_EPS = "attention.layer_norm_epsilon";
    public static final String ROPE_DIMENSION_COUNT = "rope.dimension_count";
    public static final String ROPE_FREQ_BASE = "rope.freq_base";
    public static final String VOCAB_SIZE = "vocab_size";

    public static final String TOKENIZER_MODEL = "tokenizer.ggml.model";
    public static final String TOKENIZER_PRE = "tokenizer.ggml.pre";
    public static final String TOKENIZER_TOKENS = "tokenizer.ggml.tokens";
    public static final String TOKENIZER_SCORES = "tokenizer.ggml.scores";
    public static final String TOKENIZER_TOKEN_TYPE = "tokenizer.ggml.token_type";
    public static final String TOKENIZER_MERGES = "tokenizer.ggml.merges";
    public static final String CHAT_TEMPLATE = "tokenizer.chat_template";

    /** {@code arch + "." + key}, e.g. {@code llama.block_count}. */
    public static String arch(String architecture, String key) {
        return architecture + "." + key;
    }
}
