package dev.freehold.core.format.llama2c;

import static dev.freehold.core.tensor.Bits.LE_INT;

import dev.freehold.core.format.MappedFile;
import dev.freehold.core.format.ModelFormatException;
import dev.freehold.core.format.convert.SegmentTensorSource;
import dev.freehold.core.format.convert.TensorSource;
import dev.freehold.core.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A llama2.c checkpoint ({@code run.c}'s format), memory-mapped. Two layouts exist:
 * <ul>
 * <li>legacy (v0): seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative
 * vocab_size means the classifier is not shared with the embedding), then float32 weights in the order
 * token embedding, attention norms, wq, wk, wv, wo, ffn norms, w1, w2, w3, final norm, RoPE tables, [classifier];</li>
 * <li>version 1 ({@code export.py --version 1}): a 256-byte header (magic "ak42", version, the seven fields,
 * a shared-classifier byte), then norms first: attention norms, ffn norms, final norm, embedding, wq, wk, wv,
 * wo, w1, w2, w3, [classifier]. Version 2 (int8 groups) is not supported.</li>
 * </ul>
 * llama2.c stores Q/K rows with rotary pairs interleaved, which is GGUF's layout: no permutation is needed.
 */
public final class Llama2cCheckpoint implements AutoCloseable {
    private static final int MAGIC_V1 = 0x616b3432; // "ak42"

    public record Config(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocabSize, int seqLen,
                         boolean sharedClassifier) {
        public int headDim() {
            return dim / heads;
        }

        public int kvDim() {
            return dim * kvHeads / heads;
        }
    }

    private final Path path;
    private final Arena arena;
    private final Config config;
    private final List<TensorSource> tensors;

    private Llama2cCheckpoint(Path path, Arena arena, Config config, List<TensorSource> tensors) {
        this.path = path;
        this.arena = arena;
        this.config = config;
        this.tensors = tensors;
    }

    public static Llama2cCheckpoint open(Path path) throws IOException {
        return MappedFile.open(path, (arena, seg) -> parse(path, arena, seg));
    }

    private static Llama2cCheckpoint parse(Path path, Arena arena, MemorySegment seg) {
        if (seg.byteSize() < 28) {
            throw new ModelFormatException(path, "header", 0, "file is %d bytes, too short for a llama2.c checkpoint".formatted(seg.byteSize()));
        }
        boolean v1 = seg.get(LE_INT, 0) == MAGIC_V1;
        long fieldsAt = 0;
        long weightsAt = 28;
        if (v1) {
            int version = seg.get(LE_INT, 4);
            if (version != 1) {
                throw new ModelFormatException(path, "version", 4, "llama2.c checkpoint version " + version
                        + " is not supported (only the legacy format and version 1, float32, are)");
            }
            if (seg.byteSize() < 256) {
                throw new ModelFormatException(path, "header", 0, "version 1 header needs 256 bytes, file has " + seg.byteSize());
            }
            fieldsAt = 8;
            weightsAt = 256;
        }
        int[] f = new int[7];
        for (int i = 0; i < 7; i++) f[i] = seg.get(LE_INT, fieldsAt + 4L * i);
        boolean shared = v1 ? seg.get(ValueLayout.JAVA_BYTE, 36) != 0 : f[5] > 0;
        Config c = new Config(f[0], f[1], f[2], f[3], f[4], Math.abs(f[5]), f[6], shared);
        validate(path, c, fieldsAt);

        long dim = c.dim();
        long hidden = c.hiddenDim();
        long kvDim = c.kvDim();
        long vocab = c.vocabSize();
        long layers = c.layers();
        long ropeFloats = (long) c.seqLen() * c.headDim() / 2;

        // Sizes in floats of each weight group, in file order, then slice them.
        WeightCursor w = new WeightCursor(path, seg, weightsAt);
        List<TensorSource> out = new ArrayList<>();
        MemorySegment tokEmb;
        MemorySegment attNorm;
        MemorySegment ffnNorm;
        MemorySegment finalNorm;
        if (v1) {
            attNorm = w.take("rms_att_weight", layers * dim);
            ffnNorm = w.take("rms_ffn_weight", layers * dim);
            finalNorm = w.take("rms_final_weight", dim);
            tokEmb = w.take("token_embedding_table", vocab * dim);
        } else {
            tokEmb = w.take("token_embedding_table", vocab * dim);
            attNorm = w.take("rms_att_weight", layers * dim);
            finalNorm = null;
            ffnNorm = null;
        }
        MemorySegment wq = w.take("wq", layers * dim * dim);
        MemorySegment wk = w.take("wk", layers * kvDim * dim);
        MemorySegment wv = w.take("wv", layers * kvDim * dim);
        MemorySegment wo = w.take("wo", layers * dim * dim);
        if (!v1) ffnNorm = w.take("rms_ffn_weight", layers * dim);
        MemorySegment w1 = w.take("w1", layers * hidden * dim);
        MemorySegment w2 = w.take("w2", layers * dim * hidden);
        MemorySegment w3 = w.take("w3", layers * hidden * dim);
        if (!v1) {
            finalNorm = w.take("rms_final_weight", dim);
            w.take("freq_cis_real", ropeFloats);
            w.take("freq_cis_imag", ropeFloats);
        }
        MemorySegment cls = c.sharedClassifier() ? tokEmb : w.take("wcls", vocab * dim);
        if (w.remaining() != 0) {
            throw new ModelFormatException(path, "weights", w.position(), "%d unexpected bytes after the last weight (wrong header?)".formatted(w.remaining()));
        }

        out.add(f32("token_embd.weight", tokEmb, dim, vocab));
        out.add(f32("output_norm.weight", finalNorm, dim));
        out.add(f32("output.weight", cls, dim, vocab));
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            out.add(f32(p + "attn_q.weight", layer(wq, l, dim * dim), dim, dim));
            out.add(f32(p + "attn_k.weight", layer(wk, l, kvDim * dim), dim, kvDim));
            out.add(f32(p + "attn_v.weight", layer(wv, l, kvDim * dim), dim, kvDim));
            out.add(f32(p + "attn_output.weight", layer(wo, l, dim * dim), dim, dim));
            out.add(f32(p + "attn_norm.weight", layer(attNorm, l, dim), dim));
            out.add(f32(p + "ffn_gate.weight", layer(w1, l, hidden * dim), dim, hidden));
            out.add(f32(p + "ffn_down.weight", layer(w2, l, dim * hidden), hidden, dim));
            out.add(f32(p + "ffn_up.weight", layer(w3, l, hidden * dim), dim, hidden));
            out.add(f32(p + "ffn_norm.weight", layer(ffnNorm, l, dim), dim));
        }
        return new Llama2cCheckpoint(path, arena, c, List.copyOf(out));
    }

    private static void validate(Path path, Config c, long at) {
        String problem = null;
        if (c.dim() <= 0 || c.hiddenDim() <= 0 || c.layers() <= 0 || c.heads() <= 0 || c.kvHeads() <= 0
                || c.vocabSize() <= 0 || c.seqLen() <= 0) {
            problem = "every dimension must be positive";
        } else if (c.dim() % c.heads() != 0 || c.headDim() % 2 != 0) {
            problem = "dim %d does not split into %d heads of even size".formatted(c.dim(), c.heads());
        } else if (c.kvHeads() > c.heads() || c.heads() % c.kvHeads() != 0) {
            problem = "n_kv_heads %d does not divide n_heads %d".formatted(c.kvHeads(), c.heads());
        } else if (c.dim() > (1 << 16) || c.hiddenDim() > (1 << 18) || c.layers() > 1024 || c.vocabSize() > (1 << 22)
                || c.seqLen() > (1 << 22)) {
            problem = "dimensions out of any plausible range";
        }
        if (problem != null) {
            throw new ModelFormatException(path, "header", at, "%s (dim=%d hidden_dim=%d n_layers=%d n_heads=%d n_kv_heads=%d vocab_size=%d seq_len=%d)"
                    .formatted(problem, c.dim(), c.hiddenDim(), c.layers(), c.heads(), c.kvHeads(), c.vocabSize(), c.seqLen()));
        }
    }

    private static MemorySegment layer(MemorySegment all, int layer, long floats) {
        return all.asSlice(layer * floats * 4, floats * 4);
    }

    private static SegmentTensorSource f32(String name, MemorySegment data, long... shape) {
        return new SegmentTensorSource(name, shape, GgmlType.F32, data);
    }

    /** Slices consecutive float32 arrays off the mapped file, checking each fits. */
    private static final class WeightCursor {
        private final Path path;
        private final MemorySegment seg;
        private long pos;

        WeightCursor(Path path, MemorySegment seg, long start) {
            this.path = path;
            this.seg = seg;
            this.pos = start;
        }

        MemorySegment take(String what, long floats) {
            long bytes = floats * 4;
            if (bytes > seg.byteSize() - pos) {
                throw new ModelFormatException(path, what, pos, "needs %d bytes but the file ends after %d (truncated, or not a llama2.c checkpoint?)"
                        .formatted(bytes, seg.byteSize() - pos));
            }
            MemorySegment s = seg.asSlice(pos, bytes);
            pos += bytes;
            return s;
        }

        long position() {
            return pos;
        }

        long remaining() {
            return seg.byteSize() - pos;
        }
    }

    public Path path() {
        return path;
    }

    public Config config() {
        return config;
    }

    /** The weights under their GGUF names, in the order llama.cpp's converter writes them. */
    public List<TensorSource> tensors() {
        return tensors;
    }

    @Override
    public void close() {
        arena.close();
    }
}
