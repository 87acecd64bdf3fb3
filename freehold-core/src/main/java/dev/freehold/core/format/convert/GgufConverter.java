package dev.freehold.core.format.convert;

import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.format.gguf.GgufWriter;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.tensor.TensorCodec;
import dev.freehold.core.util.ProgressListener;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Writes tensors from any {@link TensorSource} into a GGUF file, converting each to the type the
 * {@link QuantizationPolicy} chooses. Work goes in chunks of rows, so memory use stays at a few MiB per
 * tensor regardless of model size. Tensors whose stored bytes already have the chosen type are copied.
 */
public final class GgufConverter {
    /** Rows are converted in chunks of about this many values. */
    private static final int CHUNK_VALUES = 1 << 20;

    private GgufConverter() {
    }

    /** Summary of a written file. */
    public record Result(long tensorBytes, Map<GgmlType, Integer> tensorsByType, List<String> notes) {
    }

    public static Result write(Path out, Map<String, GgufValue> metadata, List<? extends TensorSource> tensors,
                               QuantizationPolicy policy, ProgressListener progress) throws IOException {
        GgufWriter writer = new GgufWriter();
        writer.putAll(metadata);
        Map<GgmlType, Integer> byType = new java.util.EnumMap<>(GgmlType.class);
        for (TensorSource t : tensors) {
            long[] shape = t.shape();
            GgmlType type = policy.typeFor(t.name(), shape, t.sourceType());
            byType.merge(type, 1, Integer::sum);
            writer.tensor(t.name(), type, shape, sink -> writeTensor(t, type, sink));
        }
        long total = writer.tensorDataBytes();
        progress.start("writing " + out.getFileName(), total, "B");
        writer.onProgress(progress::advanceTo);
        try {
            writer.write(out);
        } finally {
            progress.finish();
        }
        return new Result(total, byType, policy.fallbacks());
    }

    static void writeTensor(TensorSource t, GgmlType type, GgufWriter.Sink sink) throws IOException {
        Optional<MemorySegment> raw = t.sourceType() == type ? t.rawBytes() : Optional.empty();
        if (raw.isPresent()) {
            sink.write(raw.get());
            return;
        }
        TensorCodec codec = type.codec().orElseThrow(() -> new IllegalArgumentException("no codec for " + type));
        long rowLength = t.rowLength();
        long rows = t.rows();
        int rowsPerChunk = (int) Math.max(1, Math.min(rows, CHUNK_VALUES / Math.max(1, rowLength)));
        float[] values = new float[Math.toIntExact(rowsPerChunk * rowLength)];
        byte[] encoded = new byte[Math.toIntExact(type.bytesFor(rowsPerChunk * rowLength))];
        MemorySegment encodedSegment = MemorySegment.ofArray(encoded);
        for (long r = 0; r < rows; r += rowsPerChunk) {
            int n = (int) Math.min(rowsPerChunk, rows - r);
            int count = Math.toIntExact(n * rowLength);
            t.readRows(r, n, values);
            codec.quantize(values, 0, encodedSegment, 0, count);
            sink.write(encodedSegment.asSlice(0, type.bytesFor(count)));
        }
    }
}
