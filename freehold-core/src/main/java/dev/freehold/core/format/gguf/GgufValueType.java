package dev.freehold.core.format.gguf;

import java.util.Optional;

/** The metadata value types of GGUF, with their ids and fixed sizes (0 for variable-length ones). */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4), BOOL(7, 1),
    STRING(8, 0), ARRAY(9, 0), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    private final int id;
    private final int size;

    GgufValueType(int id, int size) {
        this.id = id;
        this.size = size;
    }

    public int id() {
        return id;
    }

    /** Bytes one value takes, or 0 for STRING and ARRAY. */
    public int size() {
        return size;
    }

    /** The fewest bytes one value of this type can take in a file (a string or array needs its length). */
    int minEncodedSize() {
        return switch (this) {
            case STRING -> 8;
            case ARRAY -> 12;
            default -> size;
        };
    }

    public static Optional<GgufValueType> byId(int id) {
        for (GgufValueType t : values()) {
            if (t.id == id) return Optional.of(t);
        }
        return Optional.empty();
    }
}
