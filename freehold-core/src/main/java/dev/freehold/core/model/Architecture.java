package dev.freehold.core.model;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The decoder architectures Freehold runs, each described by how it differs from the shared Llama blocks
 * (RMSNorm, RoPE, grouped-query attention with a KV cache, SwiGLU feed-forward), not by a forward pass of its own.
 */
public enum Architecture {
    /** Llama 2/3.x and Mistral: rotary pairs interleaved ("normal" RoPE), no biases. */
    LLAMA("llama", RopeStyle.INTERLEAVED, false, false),
    /** Qwen2 / Qwen2.5: NeoX-style RoPE (halves), biases on Q, K and V. */
    QWEN2("qwen2", RopeStyle.HALVES, true, false),
    /**
     * Gemma 2: NeoX-style RoPE; the embedding scaled by sqrt(width); GeGLU (tanh GELU) instead of SwiGLU; an extra
     * RMSNorm after attention and after the feed-forward, before each residual add; attention scores and final
     * logits soft-capped (c * tanh(x / c)); queries scaled by 1/sqrt(head size) (width/heads for the 46-layer
     * 27B); sliding-window attention on every other layer (the even ones); tied embeddings.
     */
    GEMMA2("gemma2", RopeStyle.HALVES, false, true);

    /** How RoPE pairs the dimensions of a head. */
    public enum RopeStyle {
        /** (0,1), (2,3), ...: llama.cpp's normal mode. */
        INTERLEAVED,
        /** (i, i + d/2): llama.cpp's NeoX mode. */
        HALVES
    }

    private final String ggufName;
    private final RopeStyle rope;
    private final boolean qkvBias;
    private final boolean gemma;

    Architecture(String ggufName, RopeStyle rope, boolean qkvBias, boolean gemma) {
        this.ggufName = ggufName;
        this.rope = rope;
        this.qkvBias = qkvBias;
        this.gemma = gemma;
    }

    /** Extra RMSNorms after attention and feed-forward (post_attention_norm, post_ffw_norm). */
    public boolean postNorms() {
        return gemma;
    }

    /** GELU (tanh approximation) gating in the feed-forward instead of SiLU. */
    public boolean geluGate() {
        return gemma;
    }

    /** The token embedding is multiplied by sqrt(width). */
    public boolean scaledEmbedding() {
        return gemma;
    }

    public String ggufName() {
        return ggufName;
    }

    public RopeStyle rope() {
        return rope;
    }

    public boolean qkvBias() {
        return qkvBias;
    }

    public static Optional<Architecture> byGgufName(String name) {
        return Arrays.stream(values()).filter(a -> a.ggufName.equals(name)).findFirst();
    }

    public static String supportedNames() {
        return Arrays.stream(values()).map(Architecture::ggufName).collect(Collectors.joining(", "));
    }
}
