package dev.freehold.core.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian scalar access and the float conversions and rounding rules ggml uses. */
public final class Bits {
    public static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfDouble LE_DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Bits() {
    }

    public static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    public static byte s8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off);
    }

    public static void put8(MemorySegment s, long off, int v) {
        s.set(ValueLayout.JAVA_BYTE, off, (byte) v);
    }

    public static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(LE_SHORT, off));
    }

    public static void putF16(MemorySegment s, long off, float v) {
        s.set(LE_SHORT, off, Float.floatToFloat16(v));
    }

    /** Rounds through half precision, as storing a ggml_half and reading it back does. */
    public static float roundTripF16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** ggml's fp32 to bf16: round to nearest even, NaN kept quiet. */
    public static short floatToBf16(float v) {
        int u = Float.floatToRawIntBits(v);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    /** ggml's nearest_int: round half to even via the 1.5*2^23 trick; valid for |x| <= 4194303. */
    public static int nearestInt(float x) {
        float v = x + 12582912.f;
        return (Float.floatToRawIntBits(v) & 0x007fffff) - 0x00400000;
    }

    /** C's roundf: half away from zero. */
    public static float roundf(float x) {
        return (float) Math.copySign(Math.floor(Math.abs((double) x) + 0.5), x);
    }

    /** C's conversion of a float to int8_t (truncation toward zero, then the low 8 bits). */
    public static int toInt8(float x) {
        return (byte) (int) x;
    }

    /** C's conversion of a float to uint8_t (truncation toward zero, then the low 8 bits). */
    public static int toUint8(float x) {
        return ((int) x) & 0xFF;
    }
}
