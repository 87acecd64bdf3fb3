package dev.freehold.core.format.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.freehold.core.format.MappedFile;
import dev.freehold.core.format.ModelFormatException;
import dev.freehold.core.tensor.Bits;
import dev.freehold.core.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@code .safetensors} file, memory-mapped: an 8-byte little-endian header length, a JSON header mapping
 * tensor names to {@code {dtype, shape, data_offsets}}, then the data. Header length, offsets and sizes are
 * checked against the file before use.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers of real files are a few MiB at most; this bounds what a hostile file can make us parse. */
    private static final long MAX_HEADER_BYTES = 100L << 20;

    /** One tensor: shape in the file's (row-major, outermost first) order, and its bytes. */
    public record Tensor(String name, String dtype, long[] shape, MemorySegment data) {
        /** The GGML type of the data, for the float dtypes Freehold converts. */
        public GgmlType ggmlType() {
            return switch (dtype) {
                case "F32" -> GgmlType.F32;
                case "F16" -> GgmlType.F16;
                case "BF16" -> GgmlType.BF16;
                default -> throw new IllegalArgumentException("tensor %s has dtype %s; only F32, F16 and BF16 weights can be converted"
                        .formatted(name, dtype));
            };
        }

        /** GGML order (row length first): the reverse of the file's shape. */
        public long[] ggmlShape() {
            long[] r = new long[shape.length];
            for (int i = 0; i < shape.length; i++) r[i] = shape[shape.length - 1 - i];
            return r;
        }
    }

    private final Path path;
    private final Arena arena;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    public static SafetensorsFile open(Path path) throws IOException {
        return MappedFile.open(path, (arena, seg) -> parse(path, arena, seg));
    }

    private static SafetensorsFile parse(Path path, Arena arena, MemorySegment seg) {
        if (seg.byteSize() < 8) {
            throw new ModelFormatException(path, "header length", 0, "file is too short to be safetensors");
        }
        long headerLen = seg.get(Bits.LE_LONG, 0);
        if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || headerLen > seg.byteSize() - 8) {
            throw new ModelFormatException(path, "header length", 0,
                    "header length %s is impossible for a file of %d bytes".formatted(Long.toUnsignedString(headerLen), seg.byteSize()));
        }
        String headerText = new String(seg.asSlice(8, headerLen).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        JsonNode header;
        try {
            header = mapper().readTree(headerText);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(path, "header", 8, "invalid JSON: " + e.getOriginalMessage());
        }
        if (header == null || !header.isObject()) {
            throw new ModelFormatException(path, "header", 8, "the header is not a JSON object");
        }
        long dataStart = 8 + headerLen;
        long dataBytes = seg.byteSize() - dataStart;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode t = e.getValue();
            if (name.equals("__metadata__")) {
                t.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            String field = "tensor '" + name + "'";
            JsonNode dtype = t.get("dtype");
            JsonNode shapeNode = t.get("shape");
            JsonNode offsets = t.get("data_offsets");
            if (dtype == null || !dtype.isTextual() || shapeNode == null || !shapeNode.isArray() || offsets == null
                    || !offsets.isArray() || offsets.size() != 2) {
                throw new ModelFormatException(path, field, 8, "needs dtype, shape and two data_offsets");
            }
            long[] shape = new long[shapeNode.size()];
            long elements = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong(-1);
                if (shape[i] < 0 || !shapeNode.get(i).canConvertToLong()) {
                    throw new ModelFormatException(path, field + " shape", 8, "dimension " + shapeNode.get(i) + " is not a non-negative integer");
                }
                elements = Math.multiplyExact(elements, shape[i]);
            }
            long begin = offsets.get(0).asLong(-1);
            long end = offsets.get(1).asLong(-1);
            if (begin < 0 || end < begin || end > dataBytes) {
                throw new ModelFormatException(path, field + " data_offsets", 8,
                        "[%s, %s] lies outside the %d data bytes".formatted(offsets.get(0), offsets.get(1), dataBytes));
            }
            int elementSize = switch (dtype.asText()) {
                case "F64", "I64", "U64" -> 8;
                case "F32", "I32", "U32" -> 4;
                case "F16", "BF16", "I16", "U16" -> 2;
                case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
                default -> throw new ModelFormatException(path, field + " dtype", 8, "unknown dtype " + dtype.asText());
            };
            if (end - begin != elements * elementSize) {
                throw new ModelFormatException(path, field, 8, "%d bytes of data for %d values of %s".formatted(end - begin, elements, dtype.asText()));
            }
            tensors.put(name, new Tensor(name, dtype.asText(), shape, seg.asSlice(dataStart + begin, end - begin)));
        }
        return new SafetensorsFile(path, arena, tensors, metadata);
    }

    static ObjectMapper mapper() {
        ObjectMapper m = new ObjectMapper();
        m.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxStringLength(1 << 20).maxNestingDepth(64).build());
        return m;
    }

    public Path path() {
        return path;
    }

    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        arena.close();
    }
}
