package dev.freehold.core.format.convert;

import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.tensor.TensorCodec;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * A tensor stored contiguously in GGUF layout (rows of {@code shape[0]} values of one {@link GgmlType}) in a
 * memory segment: a GGUF tensor, a llama2.c weight matrix, or a safetensors array of F32/F16/BF16.
 */
public record SegmentTensorSource(String name, long[] shape, GgmlType sourceType, MemorySegment data) implements TensorSource {

    public SegmentTensorSource {
        shape = shape.clone();
        long elements = 1;
        for (long d : shape) elements = Math.multiplyExact(elements, d);
        long expected = sourceType.bytesFor(elements);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor %s: %d bytes of data for %d %s values (%d bytes expected)"
                    .formatted(name, data.byteSize(), elements, sourceType, expected));
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public void readRows(long firstRow, int count, float[] dst) {
        TensorCodec codec = sourceType.codec().orElseThrow(
                () -> new UnsupportedOperationException("tensor %s: type %s cannot be converted to float yet".formatted(name, sourceType)));
        long rowBytes = sourceType.bytesFor(shape[0]);
        int n = Math.toIntExact(count * shape[0]);
        codec.dequantize(data, firstRow * rowBytes, dst, 0, n);
    }

    @Override
    public Optional<MemorySegment> rawBytes() {
        return Optional.of(data);
    }
}
