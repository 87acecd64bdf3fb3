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
    LLAMA("llama", RopeStyle.INTERLEAVED, false),
    /** Qwen2 / Qwen2.5: NeoX-style RoPE (halves), biases on Q, K and V. */
    QWEN2("qwen2", RopeStyle.HALVES, true);

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

    Architecture(String ggufName, RopeStyle rope, boolean qkvBias) {
        this.ggufName = ggufName;
        this.rope = rope;
        this.qkvBias = qkvBias;
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
