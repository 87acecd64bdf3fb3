package dev.freehold.core.format.hf;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The Hugging Face architectures Freehold imports, described by how they differ: the GGUF architecture name
 * they map to, and whether Q/K rows must be permuted from HF's half-split rotary layout to GGUF's interleaved
 * one (Llama and Mistral use "normal" RoPE in llama.cpp; Qwen2 uses NeoX RoPE, which needs no permutation).
 */
public enum HfArchitecture {
    LLAMA("LlamaForCausalLM", "llama", true),
    MISTRAL("MistralForCausalLM", "llama", true),
    QWEN2("Qwen2ForCausalLM", "qwen2", false);

    private final String hfName;
    private final String ggufName;
    private final boolean permuteQk;

    HfArchitecture(String hfName, String ggufName, boolean permuteQk) {
        this.hfName = hfName;
        this.ggufName = ggufName;
        this.permuteQk = permuteQk;
    }

    public String hfName() {
        return hfName;
    }

    public String ggufName() {
        return ggufName;
    }

    public boolean permuteQk() {
        return permuteQk;
    }

    public static Optional<HfArchitecture> byHfName(String name) {
        return Arrays.stream(values()).filter(a -> a.hfName.equals(name)).findFirst();
    }

    public static String supportedNames() {
        return Arrays.stream(values()).map(HfArchitecture::hfName).collect(Collectors.joining(", "));
    }
}
