package dev.freehold.core.infer;

import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.format.gguf.GgufTensorInfo;
import dev.freehold.core.kernel.Matrix;
import dev.freehold.core.model.ModelConfig;
import dev.freehold.core.model.ModelConfig.ModelConfigException;
import dev.freehold.core.tensor.GgmlType;
import java.util.Arrays;
import java.util.Optional;

/**
 * A model's tensors bound by name and checked against its config: every tensor the architecture needs must be
 * present with the shape the metadata implies. Matrices stay in the mapping; only 1-D tensors (norms, biases,
 * rope factors) are decoded to float arrays.
 */
final class Weights {
    final Matrix tokenEmbedding;   // (vocab, dim)
    final float[] outputNorm;      // (dim,)
    final Matrix output;           // (vocab, dim), the embedding when tied
    final float[] ropeFactors;     // (ropeDims/2,) or null
    final Layer[] layers;

    /** One block; attnPostNorm and ffnPostNorm are null except for architectures with post-norms (Gemma 2). */
    record Layer(float[] attnNorm, Matrix wq, Matrix wk, Matrix wv, Matrix wo, float[] bq, float[] bk, float[] bv,
                 float[] attnPostNorm, float[] ffnNorm, Matrix gate, Matrix up, Matrix down, float[] ffnPostNorm) {
    }

    Weights(GgufFile f, ModelConfig c) {
        int dim = c.dim();
        tokenEmbedding = matrix(f, "token_embd.weight", c.vocab(), dim);
        outputNorm = vector(f, "output_norm.weight", dim);
        // Gemma 2 always ties the output to the embedding (llama.cpp ignores an output.weight there)
        boolean tied = c.architecture().scaledEmbedding() || f.tensor("output.weight").isEmpty();
        output = tied ? tokenEmbedding : matrix(f, "output.weight", c.vocab(), dim);
        ropeFactors = optionalVector(f, "rope_freqs.weight", c.ropeDims() / 2).orElse(null);
        layers = new Layer[c.layers()];
        boolean bias = c.architecture().qkvBias();
        boolean post = c.architecture().postNorms();
        for (int l = 0; l < c.layers(); l++) {
            String p = "blk." + l + ".";
            layers[l] = new Layer(
                    vector(f, p + "attn_norm.weight", dim),
                    matrix(f, p + "attn_q.weight", c.qDim(), dim),
                    matrix(f, p + "attn_k.weight", c.kvDim(), dim),
                    matrix(f, p + "attn_v.weight", c.kvDim(), dim),
                    matrix(f, p + "attn_output.weight", dim, c.qDim()),
                    bias ? vector(f, p + "attn_q.bias", c.qDim()) : null,
                    bias ? vector(f, p + "attn_k.bias", c.kvDim()) : null,
                    bias ? vector(f, p + "attn_v.bias", c.kvDim()) : null,
                    post ? vector(f, p + "post_attention_norm.weight", dim) : null,
                    vector(f, p + "ffn_norm.weight", dim),
                    matrix(f, p + "ffn_gate.weight", c.ffn(), dim),
                    matrix(f, p + "ffn_up.weight", c.ffn(), dim),
                    matrix(f, p + "ffn_down.weight", dim, c.ffn()),
                    post ? vector(f, p + "post_ffw_norm.weight", dim) : null);
        }
    }

    private static GgufTensorInfo require(GgufFile f, String name, long... shape) {
        GgufTensorInfo t = f.tensor(name).orElseThrow(() -> new ModelConfigException("tensor '" + name + "' is missing"));
        if (!Arrays.equals(t.shape(), shape)) {
            throw new ModelConfigException("tensor '%s' has shape %s, but the metadata implies %s".formatted(
                    name, Arrays.toString(t.shape()), Arrays.toString(shape)));
        }
        if (t.type().codec().isEmpty()) {
            throw new ModelConfigException("tensor '%s' has type %s, which Freehold cannot run yet".formatted(name, t.type()));
        }
        return t;
    }

    static Matrix matrix(GgufFile f, String name, int rows, int cols) {
        GgufTensorInfo t = require(f, name, cols, rows);
        return Matrix.of(t.type(), f.data(t), rows, cols);
    }

    static float[] vector(GgufFile f, String name, int n) {
        GgufTensorInfo t = require(f, name, n);
        float[] v = new float[n];
        t.type().codec().orElseThrow().dequantize(f.data(t), 0, v, 0, n);
        return v;
    }

    static Optional<float[]> optionalVector(GgufFile f, String name, int n) {
        return f.tensor(name).isPresent() ? Optional.of(vector(f, name, n)) : Optional.empty();
    }

    static GgmlType typeOf(Matrix m) {
        return m.type();
    }
}
