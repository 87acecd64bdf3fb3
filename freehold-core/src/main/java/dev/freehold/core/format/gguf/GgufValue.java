package dev.freehold.core.format.gguf;

import java.util.Arrays;
import java.util.Objects;

/**
 * One metadata value. Scalars hold a boxed Java value (unsigned types widened so they read right);
 * arrays hold a Java array: {@code long[]} for integer element types, {@code double[]} for float ones,
 * {@code boolean[]}, {@code String[]}, or {@code GgufValue[]} for arrays of arrays.
 *
 * @param type        the value's type
 * @param elementType for ARRAY, the element type; otherwise null
 * @param value       the Java value, as described above
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public GgufValue {
        Objects.requireNonNull(type);
        Objects.requireNonNull(value);
        if (type == GgufValueType.ARRAY) Objects.requireNonNull(elementType, "array element type");
    }

    public static GgufValue ofString(String s) {
        return new GgufValue(GgufValueType.STRING, null, s);
    }

    public static GgufValue ofUInt32(long v) {
        return new GgufValue(GgufValueType.UINT32, null, v);
    }

    public static GgufValue ofInt32(int v) {
        return new GgufValue(GgufValueType.INT32, null, (long) v);
    }

    public static GgufValue ofUInt64(long v) {
        return new GgufValue(GgufValueType.UINT64, null, v);
    }

    public static GgufValue ofFloat32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, null, (double) v);
    }

    public static GgufValue ofBool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, null, v);
    }

    public static GgufValue ofStrings(String[] v) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.STRING, v);
    }

    public static GgufValue ofFloat32s(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.FLOAT32, d);
    }

    public static GgufValue ofInts(GgufValueType elementType, long[] v) {
        return new GgufValue(GgufValueType.ARRAY, elementType, v);
    }

    public boolean isArray() {
        return type == GgufValueType.ARRAY;
    }

    /** Number of elements of an array value (1 for a scalar). */
    public int length() {
        return switch (value) {
            case long[] a -> a.length;
            case double[] a -> a.length;
            case boolean[] a -> a.length;
            case String[] a -> a.length;
            case GgufValue[] a -> a.length;
            default -> 1;
        };
    }

    public String asString() {
        if (value instanceof String s) return s;
        throw new IllegalStateException("metadata value is " + describeType() + ", not a string");
    }

    public long asLong() {
        return switch (value) {
            case Long l -> l;
            case Double d -> (long) (double) d;
            case Boolean b -> b ? 1 : 0;
            default -> throw new IllegalStateException("metadata value is " + describeType() + ", not a number");
        };
    }

    public int asInt() {
        long v = asLong();
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new IllegalStateException("metadata value " + v + " does not fit in an int");
        }
        return (int) v;
    }

    public double asDouble() {
        return switch (value) {
            case Long l -> l;
            case Double d -> d;
            default -> throw new IllegalStateException("metadata value is " + describeType() + ", not a number");
        };
    }

    public boolean asBool() {
        if (value instanceof Boolean b) return b;
        return asLong() != 0;
    }

    public String[] asStringArray() {
        if (value instanceof String[] a) return a;
        throw new IllegalStateException("metadata value is " + describeType() + ", not an array of strings");
    }

    public float[] asFloatArray() {
        if (value instanceof double[] a) {
            float[] f = new float[a.length];
            for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
            return f;
        }
        if (value instanceof long[] a) {
            float[] f = new float[a.length];
            for (int i = 0; i < a.length; i++) f[i] = a[i];
            return f;
        }
        throw new IllegalStateException("metadata value is " + describeType() + ", not a numeric array");
    }

    public int[] asIntArray() {
        if (value instanceof long[] a) {
            int[] r = new int[a.length];
            for (int i = 0; i < a.length; i++) r[i] = Math.toIntExact(a[i]);
            return r;
        }
        if (value instanceof boolean[] a) {
            int[] r = new int[a.length];
            for (int i = 0; i < a.length; i++) r[i] = a[i] ? 1 : 0;
            return r;
        }
        throw new IllegalStateException("metadata value is " + describeType() + ", not an integer array");
    }

    public String describeType() {
        return type == GgufValueType.ARRAY ? "array of " + elementType.name().toLowerCase() : type.name().toLowerCase();
    }

    /** A short human-readable form: scalars in full, arrays summarised by type, length and first elements. */
    public String summary() {
        if (!isArray()) {
            return value instanceof String s ? quote(s, 120) : String.valueOf(value);
        }
        int n = length();
        StringBuilder sb = new StringBuilder("[").append(elementType.name().toLowerCase()).append(" x ").append(n);
        int show = Math.min(n, 5);
        if (show > 0) sb.append(": ");
        for (int i = 0; i < show; i++) {
            if (i > 0) sb.append(", ");
            sb.append(switch (value) {
                case long[] a -> String.valueOf(a[i]);
                case double[] a -> String.valueOf(a[i]);
                case boolean[] a -> String.valueOf(a[i]);
                case String[] a -> quote(a[i], 24);
                case GgufValue[] a -> a[i].summary();
                default -> "?";
            });
        }
        if (n > show) sb.append(", ...");
        return sb.append("]").toString();
    }

    private static String quote(String s, int max) {
        String t = s.length() > max ? s.substring(0, max) + "..." : s;
        return '"' + t.replace("\\", "\\\\").replace("\n", "\\n").replace("\"", "\\\"") + '"';
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof GgufValue(GgufValueType t, GgufValueType et, Object v))) return false;
        return type == t && elementType == et && Arrays.deepEquals(new Object[] {value}, new Object[] {v});
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, elementType, Arrays.deepHashCode(new Object[] {value}));
    }

    @Override
    public String toString() {
        return describeType() + " " + summary();
    }
}
