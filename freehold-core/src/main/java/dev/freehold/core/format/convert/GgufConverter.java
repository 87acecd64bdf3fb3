package dev.freehold.core.format.convert;

import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.format.gguf.GgufWriter;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.tensor.TensorCodec;
import dev.freehold.core.util.ProgressListener;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes tensors from any {@link TensorSource} into a GGUF file, converting each to the type the
 * {@link QuantizationPolicy} chooses. Work goes in chunks of rows, converted in parallel (one thread per core)
 * and written in order, so memory use stays at a few MiB per thread regardless of model size. Tensors whose
 * stored bytes already have the chosen type are copied.
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
        int threads = Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "freehold-convert");
            t.setDaemon(true);
            return t;
        });
        try {
            GgufWriter writer = new GgufWriter();
            writer.putAll(metadata);
            Map<GgmlType, Integer> byType = new java.util.EnumMap<>(GgmlType.class);
            for (TensorSource t : tensors) {
                long[] shape = t.shape();
                GgmlType type = policy.typeFor(t.name(), shape, t.sourceType());
                byType.merge(type, 1, Integer::sum);
                writer.tensor(t.name(), type, shape, sink -> writeTensor(t, type, sink, pool, threads));
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
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Encodes a tensor in chunks of rows: up to {@code parallelism} chunks are converted at once on the pool,
     * then written in order. Sources must allow concurrent {@code readRows} (all of ours do: they read mappings).
     */
    static void writeTensor(TensorSource t, GgmlType type, GgufWriter.Sink sink, ExecutorService pool, int parallelism) throws IOException {
        Optional<MemorySegment> raw = t.sourceType() == type ? t.rawBytes() : Optional.empty();
        if (raw.isPresent()) {
            sink.write(raw.get());
            return;
        }
        TensorCodec codec = type.codec().orElseThrow(() -> new IllegalArgumentException("no codec for " + type));
        long rowLength = t.rowLength();
        long rows = t.rows();
        int rowsPerChunk = (int) Math.max(1, Math.min(rows, CHUNK_VALUES / Math.max(1, rowLength)));
        for (long first = 0; first < rows; first += (long) rowsPerChunk * parallelism) {
            List<Future<byte[]>> batch = new ArrayList<>();
            for (int c = 0; c < parallelism; c++) {
                long r = first + (long) c * rowsPerChunk;
                if (r >= rows) break;
                int n = (int) Math.min(rowsPerChunk, rows - r);
                batch.add(pool.submit(() -> {
                    int count = Math.toIntExact(n * rowLength);
                    float[] values = new float[count];
                    t.readRows(r, n, values);
                    byte[] encoded = new byte[Math.toIntExact(type.bytesFor(count))];
                    codec.quantize(values, 0, MemorySegment.ofArray(encoded), 0, count);
                    return encoded;
                }));
            }
            for (Future<byte[]> f : batch) {
                sink.write(join(f));
            }
        }
    }

    private static byte[] join(Future<byte[]> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("conversion interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error err) throw err;
            throw new IOException(e.getCause());
        }
    }
}
