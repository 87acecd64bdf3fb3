package dev.freehold.core.format.convert;

import dev.freehold.core.tensor.GgmlType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Chooses each tensor's output type for a requested file type, following llama.cpp's rules:
 * 1-D tensors (norms, biases) stay F32; only 2-D+ tensors whose names end in {@code weight} are quantised,
 * never norms, positional or token-type embeddings; a tensor whose row length is not a multiple of the
 * target's block size falls back as llama-quantize does (Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, Q2_K and
 * Q3_K to Q4_0), and to F16 when even that does not divide. Every tensor gets the same target ("pure"): the
 * K-quant mixes of llama-quantize (Q4_K_M and friends) are not reproduced here.
 */
public final class QuantizationPolicy {
    private final GgmlType target;
    /** Tensor names that fell back, grouped by the reason (row length, requested and chosen type). */
    private final Map<String, List<String>> fallbacks = Collections.synchronizedMap(new LinkedHashMap<>());

    /** A policy that keeps every tensor in the type it has in the source (a copy, or a re-packaging). */
    public static QuantizationPolicy keepSourceTypes() {
        return new QuantizationPolicy();
    }

    private QuantizationPolicy() {
        this.target = null;
    }

    public QuantizationPolicy(GgmlType target) {
        if (!target.codec().map(c -> c.canQuantize()).orElse(false) || target == GgmlType.Q8_K) {
            throw new IllegalArgumentException("cannot write tensors of type " + target.displayName()
                    + "; supported: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K");
        }
        this.target = target;
    }

    /** The requested type, or null when source types are kept. */
    public GgmlType target() {
        return target;
    }

    /** Human-readable notes about tensors that could not take the target type, one per reason. */
    public List<String> fallbacks() {
        List<String> notes = new ArrayList<>();
        synchronized (fallbacks) {
            fallbacks.forEach((reason, names) -> notes.add("%d tensor%s (%s%s): %s".formatted(names.size(), names.size() == 1 ? "" : "s",
                    String.join(", ", names.subList(0, Math.min(3, names.size()))), names.size() > 3 ? ", ..." : "", reason)));
        }
        return notes;
    }

    public GgmlType typeFor(String name, long[] shape, GgmlType sourceType) {
        if (target == null) {
            return sourceType;
        }
        if (shape.length < 2) {
            return GgmlType.F32;
        }
        if (!target.isQuantized()) {
            return target;
        }
        if (!allowsQuantization(name)) {
            // Kept in a float type: the source's own if it is one, otherwise F16 as llama.cpp's converter does.
            return sourceType.isQuantized() ? GgmlType.F16 : sourceType;
        }
        GgmlType t = target;
        if (shape[0] % t.blockSize() != 0) {
            GgmlType fallback = switch (t) {
                case Q2_K, Q3_K -> GgmlType.Q4_0;
                case Q4_K -> GgmlType.Q5_0;
                case Q5_K -> GgmlType.Q5_1;
                case Q6_K -> GgmlType.Q8_0;
                default -> GgmlType.F16;
            };
            if (shape[0] % fallback.blockSize() != 0) fallback = GgmlType.F16;
            String reason = "row length %d is not a multiple of %d (%s's block), so %s is used".formatted(
                    shape[0], t.blockSize(), t.displayName(), fallback.displayName());
            fallbacks.computeIfAbsent(reason, k -> new ArrayList<>()).add(name);
            t = fallback;
        }
        return t;
    }

    /** llama.cpp's tensor_allows_quantization, for the architectures Freehold reads. */
    public static boolean allowsQuantization(String name) {
        return name.endsWith("weight")
                && !name.contains("_norm.weight")
                && !name.contains("ffn_gate_inp.weight")
                && !name.equals("position_embd.weight")
                && !name.equals("token_types.weight")
                && !name.contains("attn_rel_b.weight");
    }
}
