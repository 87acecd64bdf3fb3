package dev.freehold.core.format.gguf;

import static dev.freehold.core.tensor.Bits.LE_DOUBLE;
import static dev.freehold.core.tensor.Bits.LE_FLOAT;
import static dev.freehold.core.tensor.Bits.LE_INT;
import static dev.freehold.core.tensor.Bits.LE_LONG;
import static dev.freehold.core.tensor.Bits.LE_SHORT;

import dev.freehold.core.format.ModelFormatException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Sequential reader over a GGUF header. Every read checks the bytes that remain first, and every length is
 * checked against them before anything is allocated, so a hostile file costs no more memory than its size.
 */
final class GgufCursor {
    /** Arrays nest at most this deep; real files use one level. */
    private static final int MAX_ARRAY_DEPTH = 4;

    private final Path path;
    private final MemorySegment seg;
    private long pos;
    private final CharsetDecoder strictUtf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);

    GgufCursor(Path path, MemorySegment seg) {
        this.path = path;
        this.seg = seg;
    }

    long position() {
        return pos;
    }

    long remaining() {
        return seg.byteSize() - pos;
    }

    private void need(long n, String field) {
        if (n > remaining()) {
            throw new ModelFormatException(path, field, pos,
                    "needs %d bytes but the file ends after %d (truncated?)".formatted(n, remaining()));
        }
    }

    int i32(String field) {
        need(4, field);
        int v = seg.get(LE_INT, pos);
        pos += 4;
        return v;
    }

    long u64(String field) {
        need(8, field);
        long v = seg.get(LE_LONG, pos);
        pos += 8;
        return v;
    }

    String string(String field) {
        long at = pos;
        long len = u64(field + " length");
        if (len < 0 || len > remaining()) {
            throw new ModelFormatException(path, field, at,
                    "string length %s exceeds the %d bytes that remain".formatted(Long.toUnsignedString(len), remaining()));
        }
        if (len > Integer.MAX_VALUE - 16) {
            throw new ModelFormatException(path, field, at, "string of %d bytes is too long".formatted(len));
        }
        ByteBuffer bytes = seg.asSlice(pos, len).asByteBuffer();
        pos += len;
        try {
            return strictUtf8.reset().decode(bytes).toString();
        } catch (CharacterCodingException e) {
            // A few vocabularies hold pieces that are not valid UTF-8. llama.cpp accepts them, so we do too,
            // decoding leniently (invalid bytes become U+FFFD).
            return StandardCharsets.UTF_8.decode(seg.asSlice(at + 8, len).asByteBuffer()).toString();
        }
    }

    GgufValue value(String field) {
        long at = pos;
        int typeId = i32(field + " type");
        GgufValueType type = GgufValueType.byId(typeId).orElseThrow(() -> new ModelFormatException(path, field + " type", at,
                "unknown metadata value type " + Integer.toUnsignedString(typeId)));
        return value(field, type, 0);
    }

    private GgufValue value(String field, GgufValueType type, int depth) {
        return switch (type) {
            case ARRAY -> array(field, depth);
            case STRING -> new GgufValue(type, null, string(field));
            case BOOL -> {
                need(1, field);
                byte b = seg.get(ValueLayout.JAVA_BYTE, pos++);
                if (b != 0 && b != 1) {
                    throw new ModelFormatException(path, field, pos - 1, "boolean byte is " + (b & 0xFF) + ", not 0 or 1");
                }
                yield new GgufValue(type, null, b == 1);
            }
            case FLOAT32, FLOAT64 -> new GgufValue(type, null, readFloat(type, field));
            default -> new GgufValue(type, null, readInteger(type, field));
        };
    }

    private long readInteger(GgufValueType type, String field) {
        need(type.size(), field);
        long v = switch (type) {
            case UINT8 -> seg.get(ValueLayout.JAVA_BYTE, pos) & 0xFFL;
            case INT8 -> seg.get(ValueLayout.JAVA_BYTE, pos);
            case UINT16 -> seg.get(LE_SHORT, pos) & 0xFFFFL;
            case INT16 -> seg.get(LE_SHORT, pos);
            case UINT32 -> seg.get(LE_INT, pos) & 0xFFFFFFFFL;
            case INT32 -> seg.get(LE_INT, pos);
            case UINT64, INT64 -> seg.get(LE_LONG, pos);
            default -> throw new IllegalStateException(type.name());
        };
        pos += type.size();
        return v;
    }

    private double readFloat(GgufValueType type, String field) {
        need(type.size(), field);
        double v = type == GgufValueType.FLOAT32 ? seg.get(LE_FLOAT, pos) : seg.get(LE_DOUBLE, pos);
        pos += type.size();
        return v;
    }

    private GgufValue array(String field, int depth) {
        long at = pos;
        if (depth >= MAX_ARRAY_DEPTH) {
            throw new ModelFormatException(path, field, at, "arrays nested more than " + MAX_ARRAY_DEPTH + " deep");
        }
        int elemId = i32(field + " element type");
        GgufValueType elem = GgufValueType.byId(elemId).orElseThrow(() -> new ModelFormatException(path, field + " element type", at,
                "unknown array element type " + Integer.toUnsignedString(elemId)));
        long countAt = pos;
        long count = u64(field + " length");
        long minBytes = elem.minEncodedSize();
        if (count < 0 || count > remaining() / minBytes || count > Integer.MAX_VALUE - 16) {
            throw new ModelFormatException(path, field + " length", countAt,
                    "%s elements of %s cannot fit in the %d bytes that remain".formatted(
                            Long.toUnsignedString(count), elem.name().toLowerCase(), remaining()));
        }
        int n = (int) count;
        Object values = switch (elem) {
            case STRING -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) a[i] = string(field + "[" + i + "]");
                yield a;
            }
            case ARRAY -> {
                GgufValue[] a = new GgufValue[n];
                for (int i = 0; i < n; i++) a[i] = array(field + "[" + i + "]", depth + 1);
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) a[i] = (Boolean) value(field + "[" + i + "]", elem, depth).value();
                yield a;
            }
            case FLOAT32, FLOAT64 -> {
                double[] a = new double[n];
                for (int i = 0; i < n; i++) a[i] = readFloat(elem, field);
                yield a;
            }
            default -> {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) a[i] = readInteger(elem, field);
                yield a;
            }
        };
        return new GgufValue(GgufValueType.ARRAY, elem, values);
    }
}
