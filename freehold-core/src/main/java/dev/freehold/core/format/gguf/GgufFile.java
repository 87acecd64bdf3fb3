package dev.freehold.core.format.gguf;

import dev.freehold.core.format.MappedFile;
import dev.freehold.core.format.ModelFormatException;
import dev.freehold.core.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A GGUF (v2 or v3) file, memory-mapped read-only. Metadata and tensor infos are parsed and validated when
 * the file is opened; tensor data stays in the mapping and is handed out as slices, never copied.
 *
 * <p>Validation covers every length and count the file states (checked against the bytes that remain before
 * anything is allocated), the alignment, tensor shapes and types, tensor data inside the file, and tensors
 * that overlap. Problems raise {@link ModelFormatException} naming the field and offset.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String KEY_ALIGNMENT = "general.alignment";
    /** GGML tensors have at most four dimensions. */
    public static final int MAX_DIMS = 4;

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> tensorsByName;
    private final int alignment;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, MemorySegment file, int version, Map<String, GgufValue> metadata,
                     List<GgufTensorInfo> tensors, int alignment, long dataOffset) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.version = version;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = List.copyOf(tensors);
        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        for (GgufTensorInfo t : tensors) byName.put(t.name(), t);
        this.tensorsByName = Collections.unmodifiableMap(byName);
        this.alignment = alignment;
        this.dataOffset = dataOffset;
    }

    /** Maps and parses a GGUF file. */
    public static GgufFile open(Path path) throws IOException {
        return MappedFile.open(path, (arena, seg) -> parse(path, arena, seg));
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment seg) {
        GgufCursor in = new GgufCursor(path, seg);
        if (seg.byteSize() < 4) {
            throw new ModelFormatException(path, "magic", 0, "file is %d bytes, too short to be GGUF".formatted(seg.byteSize()));
        }
        int magic = in.i32("magic");
        if (magic != MAGIC) {
            throw new ModelFormatException(path, "magic", 0,
                    "not a GGUF file (expected bytes 'GGUF', found 0x%08x)".formatted(Integer.reverseBytes(magic)));
        }
        long versionAt = in.position();
        int version = in.i32("version");
        if (version == 1) {
            throw new ModelFormatException(path, "version", versionAt, "GGUF version 1 is obsolete; convert the model again with a current tool");
        }
        if (version != 2 && version != 3) {
            String hint = Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3
                    ? " (a big-endian GGUF file; only little-endian files are supported)" : "";
            throw new ModelFormatException(path, "version", versionAt, "unsupported GGUF version " + Integer.toUnsignedString(version) + hint);
        }
        long tensorCountAt = in.position();
        long tensorCount = in.u64("tensor count");
        long kvCountAt = in.position();
        long kvCount = in.u64("metadata count");
        // Each metadata entry needs at least a key length (8), a type (4) and one value byte; each tensor info
        // at least 8 + 4 + 8 + 4 + 8 bytes. Counts beyond what the file could hold are rejected up front.
        if (Long.compareUnsigned(kvCount, in.remaining() / 13) > 0) {
            throw new ModelFormatException(path, "metadata count", kvCountAt,
                    "%s entries cannot fit in the %d bytes that follow".formatted(Long.toUnsignedString(kvCount), in.remaining()));
        }
        if (Long.compareUnsigned(tensorCount, in.remaining() / 32) > 0) {
            throw new ModelFormatException(path, "tensor count", tensorCountAt,
                    "%s tensors cannot fit in the %d bytes that follow".formatted(Long.toUnsignedString(tensorCount), in.remaining()));
        }

        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long keyAt = in.position();
            String key = in.string("metadata key #" + i);
            if (key.isEmpty()) {
                throw new ModelFormatException(path, "metadata key #" + i, keyAt, "empty key");
            }
            String keyField = "metadata '" + ModelFormatException.printable(key) + "'";
            GgufValue value = in.value(keyField);
            if (metadata.putIfAbsent(key, value) != null) {
                throw new ModelFormatException(path, keyField, keyAt, "duplicate key");
            }
        }

        int alignment = DEFAULT_ALIGNMENT;
        GgufValue alignValue = metadata.get(KEY_ALIGNMENT);
        if (alignValue != null) {
            long a = alignValue.isArray() || alignValue.type() == GgufValueType.STRING ? -1 : alignValue.asLong();
            if (a <= 0 || a > (1 << 20) || Long.bitCount(a) != 1) {
                throw new ModelFormatException(path, "metadata '" + KEY_ALIGNMENT + "'", -1,
                        "alignment must be a power of two up to 1 MiB, found " + alignValue.summary());
            }
            alignment = (int) a;
        }

        List<GgufTensorInfo> tensors = new ArrayList<>((int) tensorCount);
        Map<String, Long> seen = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            long infoAt = in.position();
            String name = in.string("tensor #" + i + " name");
            String field = "tensor '" + ModelFormatException.printable(name) + "'";
            if (seen.putIfAbsent(name, infoAt) != null) {
                throw new ModelFormatException(path, field, infoAt, "duplicate tensor name");
            }
            long dimsAt = in.position();
            int nDims = in.i32(field + " dimension count");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new ModelFormatException(path, field + " dimension count", dimsAt,
                        "%s dimensions (1 to %d allowed)".formatted(Integer.toUnsignedString(nDims), MAX_DIMS));
            }
            long[] shape = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                long at = in.position();
                shape[d] = in.u64(field + " dimension " + d);
                if (shape[d] <= 0) {
                    throw new ModelFormatException(path, field + " dimension " + d, at,
                            "dimension %s is not a positive number".formatted(Long.toUnsignedString(shape[d])));
                }
                try {
                    elements = Math.multiplyExact(elements, shape[d]);
                } catch (ArithmeticException e) {
                    throw new ModelFormatException(path, field + " shape", at, "element count overflows 64 bits");
                }
            }
            long typeAt = in.position();
            int typeId = in.i32(field + " type");
            GgmlType type = GgmlType.byId(typeId).orElseThrow(() -> new ModelFormatException(path, field + " type", typeAt,
                    "unknown tensor type id " + Integer.toUnsignedString(typeId)));
            if (shape[0] % type.blockSize() != 0) {
                throw new ModelFormatException(path, field + " shape", dimsAt,
                        "row length %d is not a multiple of %s's block size %d".formatted(shape[0], type, type.blockSize()));
            }
            long offsetAt = in.position();
            long offset = in.u64(field + " data offset");
            if (offset < 0 || offset % alignment != 0) {
                throw new ModelFormatException(path, field + " data offset", offsetAt,
                        "offset %s is not a multiple of the alignment %d".formatted(Long.toUnsignedString(offset), alignment));
            }
            GgufTensorInfo info = new GgufTensorInfo(name, type, shape, offset);
            try {
                info.byteSize();
            } catch (ArithmeticException e) {
                throw new ModelFormatException(path, field + " shape", dimsAt, "byte size overflows 64 bits");
            }
            tensors.add(info);
        }

        long dataOffset = alignUp(in.position(), alignment);
        long dataBytes = seg.byteSize() - dataOffset;
        if (tensorCount > 0 && dataBytes < 0) {
            throw new ModelFormatException(path, "tensor data", dataOffset,
                    "file ends at %d, before its tensor data starts".formatted(seg.byteSize()));
        }
        checkTensorData(path, tensors, dataOffset, Math.max(0, dataBytes));
        return new GgufFile(path, arena, seg, version, metadata, tensors, alignment, dataOffset);
    }

    private static void checkTensorData(Path path, List<GgufTensorInfo> tensors, long dataOffset, long dataBytes) {
        List<GgufTensorInfo> byOffset = new ArrayList<>(tensors);
        byOffset.sort(Comparator.comparingLong(GgufTensorInfo::offset));
        GgufTensorInfo previous = null;
        for (GgufTensorInfo t : byOffset) {
            long size = t.byteSize();
            if (t.offset() > dataBytes || size > dataBytes - t.offset()) {
                throw new ModelFormatException(path, "tensor '" + ModelFormatException.printable(t.name()) + "' data", dataOffset + t.offset(),
                        "%d bytes at data offset %d run past the end of the file (the data section holds %d bytes; is the file truncated?)"
                                .formatted(size, t.offset(), dataBytes));
            }
            if (previous != null && previous.offset() + previous.byteSize() > t.offset()) {
                throw new ModelFormatException(path, "tensor '" + ModelFormatException.printable(t.name()) + "' data", dataOffset + t.offset(),
                        "overlaps tensor '%s' (%d..%d)".formatted(previous.name(), previous.offset(), previous.offset() + previous.byteSize()));
            }
            previous = t;
        }
    }

    static long alignUp(long v, long alignment) {
        return (v + alignment - 1) / alignment * alignment;
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    /** All metadata in file order. */
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    public Optional<GgufValue> get(String key) {
        return Optional.ofNullable(metadata.get(key));
    }

    public Optional<String> getString(String key) {
        return get(key).filter(v -> v.type() == GgufValueType.STRING).map(GgufValue::asString);
    }

    /** A numeric scalar, if present and numeric. */
    public Optional<Long> getLong(String key) {
        return get(key).filter(v -> !v.isArray() && v.type() != GgufValueType.STRING).map(GgufValue::asLong);
    }

    public Optional<Double> getDouble(String key) {
        return get(key).filter(v -> !v.isArray() && v.type() != GgufValueType.STRING).map(GgufValue::asDouble);
    }

    public List<GgufTensorInfo> tensors() {
        return tensors;
    }

    public Optional<GgufTensorInfo> tensor(String name) {
        return Optional.ofNullable(tensorsByName.get(name));
    }

    public int alignment() {
        return alignment;
    }

    /** Absolute byte offset of the data section. */
    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return file.byteSize();
    }

    /** The whole mapped file. */
    public MemorySegment segment() {
        return file;
    }

    /** The tensor's bytes, a slice of the mapping (valid until {@link #close()}). */
    public MemorySegment data(GgufTensorInfo t) {
        return file.asSlice(dataOffset + t.offset(), t.byteSize());
    }

    /** The architecture named by {@code general.architecture}, or empty. */
    public Optional<String> architecture() {
        return getString("general.architecture");
    }

    @Override
    public void close() {
        arena.close();
    }
}
