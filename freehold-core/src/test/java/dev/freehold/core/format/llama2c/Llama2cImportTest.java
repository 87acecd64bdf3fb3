package dev.freehold.core.format.llama2c;

import static org.assertj.core.api.Assertions.assertThat;

import dev.freehold.core.format.convert.GgufConverter;
import dev.freehold.core.format.convert.QuantizationPolicy;
import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.format.gguf.GgufTensorInfo;
import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.testing.SharedData;
import dev.freehold.core.util.ProgressListener;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Converting Karpathy's stories260K checkpoint must give what llama.cpp's converter gave: the reference
 * {@code stories260K.gguf} (shared data) was written by {@code convert-llama2c-to-ggml}.
 */
class Llama2cImportTest {

    @Test
    void stories260kConvertsToTheSameTensorsAndMetadataAsLlamaCpp(@TempDir Path tmp) throws Exception {
        Path dir = SharedData.require("llama2c-stories260K");
        Path out = tmp.resolve("stories260K.gguf");
        try (Llama2cCheckpoint ckpt = Llama2cCheckpoint.open(dir.resolve("stories260K.bin"))) {
            Llama2cCheckpoint.Config c = ckpt.config();
            assertThat(c).isEqualTo(new Llama2cCheckpoint.Config(64, 172, 5, 8, 4, 512, 512, true));
            Llama2cTokenizerFile tok = Llama2cTokenizerFile.read(dir.resolve("tok512.bin"), c.vocabSize());
            GgufConverter.write(out, Llama2cImporter.metadata(c, tok, "stories260K"), ckpt.tensors(),
                    new QuantizationPolicy(GgmlType.F32), ProgressListener.NONE);
        }
        try (GgufFile ours = GgufFile.open(out); GgufFile ref = GgufFile.open(dir.resolve("stories260K.gguf"))) {
            assertThat(ours.tensors()).extracting(GgufTensorInfo::name)
                    .containsExactlyElementsOf(ref.tensors().stream().map(GgufTensorInfo::name).toList());
            for (GgufTensorInfo r : ref.tensors()) {
                GgufTensorInfo o = ours.tensor(r.name()).orElseThrow();
                assertThat(o.type()).as(r.name()).isEqualTo(r.type());
                assertThat(o.shape()).as(r.name()).containsExactly(r.shape());
                assertThat(ours.data(o).mismatch(ref.data(r))).as("first differing byte of " + r.name()).isEqualTo(-1L);
            }
            // Every key llama.cpp writes, we write too, with the same value, except the two we choose differently:
            // the model's name, and the context length (llama.cpp writes its default 2048; the model was trained at 512).
            Set<String> differentByChoice = Set.of("general.name", "llama.context_length");
            for (Map.Entry<String, GgufValue> e : ref.metadata().entrySet()) {
                assertThat(ours.metadata()).as("key " + e.getKey()).containsKey(e.getKey());
                if (!differentByChoice.contains(e.getKey())) {
                    assertThat(ours.metadata().get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
                }
            }
            assertThat(ours.getLong("llama.context_length")).contains(512L);
            assertThat(ref.getLong("llama.context_length")).contains(2048L);
        }
    }

    @Test
    void aidreamsWithPlainMultiHeadAttentionConverts(@TempDir Path tmp) throws Exception {
        Path dir = SharedData.require("llama2c-aidreams260K");
        Path out = tmp.resolve("aidreams.gguf");
        try (Llama2cCheckpoint ckpt = Llama2cCheckpoint.open(dir.resolve("aidreams260K.bin"))) {
            assertThat(ckpt.config()).isEqualTo(new Llama2cCheckpoint.Config(64, 172, 4, 4, 4, 512, 128, true));
            Llama2cTokenizerFile tok = Llama2cTokenizerFile.read(dir.resolve("tok512.bin"), 512);
            GgufConverter.write(out, Llama2cImporter.metadata(ckpt.config(), tok, "aidreams260K"), ckpt.tensors(),
                    new QuantizationPolicy(GgmlType.F32), ProgressListener.NONE);
            try (GgufFile g = GgufFile.open(out)) {
                assertThat(g.tensors()).hasSize(3 + 4 * 9);
                // The embedding is the first weight group of a legacy file: compare it with the raw floats.
                MemorySegment raw = ckpt.tensors().getFirst().rawBytes().orElseThrow();
                assertThat(g.data(g.tensor("token_embd.weight").orElseThrow()).mismatch(raw)).isEqualTo(-1L);
                assertThat(g.getLong("llama.attention.head_count_kv")).contains(4L);
            }
        }
    }
}
