package dev.freehold.core.embed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.freehold.core.format.synthetic.RandomLlamaModel;
import dev.freehold.core.infer.Engine;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.testing.LlamaCppOracle;
import dev.freehold.core.util.ProgressListener;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decoder (Llama-family) embeddings against llama.cpp's embedding mode on the same random-weight GGUF. */
class DecoderEmbeddingParityTest {

    static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void meanAndLastPoolingMatchLlamaCpp(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("random-llama-f32.gguf");
        RandomLlamaModel.write(model, new RandomLlamaModel.Shape(256, 512, 2, 8, 2, 400, 256, false), GgmlType.F32, 21, ProgressListener.NONE);
        List<String> texts = List.of("Hello world", "The quick brown fox jumps over the lazy dog", "a", "Once upon a time, in a land far away, there lived a king.");
        for (String pooling : List.of("MEAN", "LAST")) {
            // llama.cpp 4.2.0 aborts on mean pooling for decoders; its predecessor in the probability oracle does not.
            List<float[]> reference = pooling.equals("MEAN") ? dev.freehold.core.testing.LlamaCppProbabilityOracle.meanEmbeddings(model, texts)
                    : LlamaCppOracle.embed(model, pooling, texts);
            try (Engine engine = Engine.load(model, new EngineOptions(2, EngineOptions.KvCacheType.F32))) {
                for (int i = 0; i < texts.size(); i++) {
                    int[] ids = engine.tokenizer().encode(texts.get(i), true, false);
                    float[] ours = engine.embed(ids, Engine.Pooling.valueOf(pooling), true);
                    double c = cosine(ours, reference.get(i));
                    System.out.printf("decoder embedding, %s pooling, '%s': cosine to llama.cpp %.7f%n", pooling, texts.get(i), c);
                    assertThat(c).as("%s pooling, text %d", pooling, i).isGreaterThanOrEqualTo(0.9999);
                    double norm = 0;
                    for (float f : ours) norm += f * f;
                    assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
                }
            }
        }
    }
}
