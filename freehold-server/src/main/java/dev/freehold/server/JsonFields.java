package dev.freehold.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed reads of request fields with range checks: a wrong type or value is a 400 naming the field, never a
 * silent default. A field that is absent or JSON null gives the default.
 */
public final class JsonFields {
    private JsonFields() {
    }

    static boolean absent(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode();
    }

    public static String string(JsonNode obj, String field, String dflt) {
        JsonNode n = obj.get(field);
        if (absent(n)) return dflt;
        if (!n.isTextual()) throw ApiException.invalid(field, "'" + field + "' must be a string");
        return n.asText();
    }

    public static boolean bool(JsonNode obj, String field, boolean dflt) {
        JsonNode n = obj.get(field);
        if (absent(n)) return dflt;
        if (!n.isBoolean()) throw ApiException.invalid(field, "'" + field + "' must be true or false");
        return n.booleanValue();
    }

    public static double number(JsonNode obj, String field, double dflt, double min, double max) {
        return number(obj, field, field, dflt, min, max);
    }

    /** {@code param}: the name to report (e.g. {@code options.temperature}). */
    public static double number(JsonNode obj, String field, String param, double dflt, double min, double max) {
        JsonNode n = obj.get(field);
        if (absent(n)) return dflt;
        if (!n.isNumber()) throw ApiException.invalid(param, "'" + param + "' must be a number");
        double v = n.doubleValue();
        if (!(v >= min && v <= max)) throw ApiException.invalid(param, "'%s' must be between %s and %s, got %s".formatted(param, fmt(min), fmt(max), n));
        return v;
    }

    public static long integer(JsonNode obj, String field, long dflt, long min, long max) {
        return integer(obj, field, field, dflt, min, max);
    }

    public static long integer(JsonNode obj, String field, String param, long dflt, long min, long max) {
        JsonNode n = obj.get(field);
        if (absent(n)) return dflt;
        if (!n.isIntegralNumber() && !(n.isNumber() && n.doubleValue() == Math.rint(n.doubleValue()))) {
            throw ApiException.invalid(param, "'" + param + "' must be an integer");
        }
        if (!n.canConvertToLong()) throw ApiException.invalid(param, "'" + param + "' is out of range");
        long v = n.longValue();
        if (v < min || v > max) throw ApiException.invalid(param, "'%s' must be between %d and %d, got %d".formatted(param, min, max, v));
        return v;
    }

    /** A string or an array of strings (as {@code stop} is), at most {@code max} of them, none empty. */
    public static List<String> strings(JsonNode obj, String field, int max) {
        JsonNode n = obj.get(field);
        List<String> out = new ArrayList<>();
        if (absent(n)) return out;
        if (n.isTextual()) {
            out.add(n.asText());
        } else if (n.isArray()) {
            for (JsonNode e : n) {
                if (!e.isTextual()) throw ApiException.invalid(field, "'" + field + "' must hold strings");
                out.add(e.asText());
            }
        } else {
            throw ApiException.invalid(field, "'" + field + "' must be a string or an array of strings");
        }
        if (out.size() > max) throw ApiException.invalid(field, "'%s' takes at most %d strings".formatted(field, max));
        out.removeIf(String::isEmpty);
        return out;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
