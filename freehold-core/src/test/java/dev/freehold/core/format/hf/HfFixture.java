package dev.freehold.core.format.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Writes small Hugging Face model directories with random weights for tests: safetensors written from the
 * published format (8-byte header length, JSON header, data), optionally sharded with an index.
 */
final class HfFixture {
    static final ObjectMapper JSON = new ObjectMapper();

    /** A weight in HF layout: row-major, shape outermost first. */
    record Weight(String name, long[] shape, float[] values) {
    }

    static List<Weight> llamaWeights(int dim, int ffn, int layers, int heads, int kvHeads, int vocab, boolean bias, boolean lmHead, long seed) {
        Random r = new Random(seed);
        List<Weight> w = new ArrayList<>();
        int hd = dim / heads;
        w.add(random("model.embed_tokens.weight", r, vocab, dim));
        w.add(ones("model.norm.weight", dim));
        if (lmHead) w.add(random("lm_head.weight", r, vocab, dim));
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            w.add(random(p + "self_attn.q_proj.weight", r, heads * hd, dim));
            w.add(random(p + "self_attn.k_proj.weight", r, kvHeads * hd, dim));
            w.add(random(p + "self_attn.v_proj.weight", r, kvHeads * hd, dim));
            if (bias) {
                w.add(random(p + "self_attn.q_proj.bias", r, heads * hd));
                w.add(random(p + "self_attn.k_proj.bias", r, kvHeads * hd));
                w.add(random(p + "self_attn.v_proj.bias", r, kvHeads * hd));
            }
            w.add(random(p + "self_attn.o_proj.weight", r, dim, heads * hd));
            w.add(random(p + "mlp.gate_proj.weight", r, ffn, dim));
            w.add(random(p + "mlp.up_proj.weight", r, ffn, dim));
            w.add(random(p + "mlp.down_proj.weight", r, dim, ffn));
            w.add(ones(p + "input_layernorm.weight", dim));
            w.add(ones(p + "post_attention_layernorm.weight", dim));
        }
        return w;
    }

    static Weight random(String name, Random r, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        double std = 1 / Math.sqrt(shape[shape.length - 1]);
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * std);
        return new Weight(name, shape, v);
    }

    static Weight ones(String name, long... shape) {
        float[] v = new float[(int) shape[0]];
        java.util.Arrays.fill(v, 1f);
        return new Weight(name, shape, v);
    }

    /** Writes the weights in {@code dtype} (F32, F16 or BF16) over {@code shards} files (an index when more than one). */
    static void writeWeights(Path dir, List<Weight> weights, String dtype, int shards) throws IOException {
        Files.createDirectories(dir);
        int per = (weights.size() + shards - 1) / shards;
        ObjectNode weightMap = JSON.createObjectNode();
        for (int s = 0; s < shards; s++) {
            String file = shards == 1 ? "model.safetensors" : "model-%05d-of-%05d.safetensors".formatted(s + 1, shards);
            List<Weight> part = weights.subList(s * per, Math.min(weights.size(), (s + 1) * per));
            writeSafetensors(dir.resolve(file), part, dtype);
            for (Weight w : part) weightMap.put(w.name(), file);
        }
        if (shards > 1) {
            ObjectNode index = JSON.createObjectNode();
            index.putObject("metadata").put("total_size", 0);
            index.set("weight_map", weightMap);
            Files.writeString(dir.resolve("model.safetensors.index.json"), index.toPrettyString());
        }
    }

    static void writeSafetensors(Path file, List<Weight> weights, String dtype) throws IOException {
        int size = dtype.equals("F32") ? 4 : 2;
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", "pt"));
        long offset = 0;
        for (Weight w : weights) {
            long bytes = (long) w.values().length * size;
            header.put(w.name(), Map.of("dtype", dtype, "shape", w.shape(), "data_offsets", List.of(offset, offset + bytes)));
            offset += bytes;
        }
        byte[] h = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate((int) (8 + h.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (Weight w : weights) {
            for (float v : w.values()) {
                switch (dtype) {
                    case "F32" -> b.putFloat(v);
                    case "F16" -> b.putShort(Float.floatToFloat16(v));
                    default -> b.putShort((short) (Float.floatToRawIntBits(v) >>> 16)); // truncation is a valid BF16 value
                }
            }
        }
        Files.write(file, b.array());
    }

    static void writeConfig(Path dir, String arch, int dim, int ffn, int layers, int heads, int kvHeads, int vocab, boolean tied,
                            Map<String, Object> extra) throws IOException {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of(arch));
        c.put("hidden_size", dim);
        c.put("intermediate_size", ffn);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        c.put("vocab_size", vocab);
        c.put("max_position_embeddings", 2048);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 500000.0);
        c.put("tie_word_embeddings", tied);
        c.putAll(extra);
        Files.writeString(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c));
    }
}
