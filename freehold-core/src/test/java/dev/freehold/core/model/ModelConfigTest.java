package dev.freehold.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.freehold.core.format.gguf.GgufValue;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hyper-parameters from metadata, with llama.cpp's defaults (llama-hparams.h, models/gemma2.cpp) as the reference. */
class ModelConfigTest {
    static Map<String, GgufValue> metadata(String arch, int layers) {
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put(GgufKeys.ARCHITECTURE, GgufValue.ofString(arch));
        md.put(arch + ".embedding_length", GgufValue.ofUInt32(2304));
        md.put(arch + ".block_count", GgufValue.ofUInt32(layers));
        md.put(arch + ".attention.head_count", GgufValue.ofUInt32(8));
        md.put(arch + ".attention.head_count_kv", GgufValue.ofUInt32(4));
        md.put(arch + ".attention.key_length", GgufValue.ofUInt32(256));
        md.put(arch + ".feed_forward_length", GgufValue.ofUInt32(9216));
        return md;
    }

    @Test
    void gemma2TakesLlamaCppsDefaults() {
        ModelConfig c = ModelConfig.from(metadata("gemma2", 26), 256000);
        assertThat(c.attnSoftcap()).isEqualTo(50f);
        assertThat(c.finalSoftcap()).isEqualTo(30f);
        assertThat(c.slidingWindow()).isEqualTo(4096);
        assertThat(c.queryScale()).isCloseTo((float) (1 / Math.sqrt(256)), within(1e-7f));
        assertThat(c.slidingLayer(0)).isTrue();
        assertThat(c.slidingLayer(1)).isFalse();
        // the 27B (46 layers) scales queries by width / heads, not by the head size
        assertThat(ModelConfig.from(metadata("gemma2", 46), 256000).queryScale()).isCloseTo((float) (1 / Math.sqrt(2304 / 8)), within(1e-7f));
    }

    @Test
    void llamaHasNoWindowUnlessTheMetadataSetsOneAndThenOnEveryLayer() {
        Map<String, GgufValue> md = metadata("llama", 2);
        assertThat(ModelConfig.from(md, 32000).slidingLayer(0)).isFalse();
        md.put("llama.attention.sliding_window", GgufValue.ofUInt32(4096));
        ModelConfig c = ModelConfig.from(md, 32000);
        assertThat(c.slidingLayer(0)).isTrue();
        assertThat(c.slidingLayer(1)).isTrue();
        assertThat(c.attnSoftcap()).isZero();
    }

    @Test
    void implausibleValuesAreClearErrors() {
        Map<String, GgufValue> md = metadata("gemma2", 26);
        md.put("gemma2.final_logit_softcapping", GgufValue.ofFloat32(Float.POSITIVE_INFINITY));
        assertThatThrownBy(() -> ModelConfig.from(md, 256000)).isInstanceOf(ModelConfig.ModelConfigException.class)
                .hasMessageContaining("soft-capping");
        Map<String, GgufValue> unknown = metadata("mamba", 2);
        assertThatThrownBy(() -> ModelConfig.from(unknown, 1000)).isInstanceOf(ModelConfig.ModelConfigException.class)
                .hasMessageContaining("'mamba' is not supported").hasMessageContaining("llama, qwen2, gemma2");
    }
}
