package dev.freehold.core.chat;

import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps(x, ensure_ascii=False)} as Hugging Face's {@code tojson} filter calls it: insertion
 * order, non-ASCII kept, separators {@code ", "} and {@code ": "} (or {@code ","} at line ends with an indent).
 */
final class PythonJson {
    private PythonJson() {
    }

    /** @param indent spaces per level, or -1 for a single line */
    static String dumps(Object v, int indent) {
        StringBuilder sb = new StringBuilder();
        write(sb, v, indent, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, int indent, int level) {
        if (v == null || v == JinjaRuntime.NONE || v == JinjaRuntime.UNDEFINED) {
            sb.append("null");
        } else if (v instanceof String s) {
            string(sb, s);
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (v instanceof Long l) {
            sb.append(l);
        } else if (v instanceof Double d) {
            sb.append(d.isNaN() ? "NaN" : d.isInfinite() ? (d > 0 ? "Infinity" : "-Infinity") : pyFloat(d));
        } else if (v instanceof List<?> l) {
            if (l.isEmpty()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            for (int k = 0; k < l.size(); k++) {
                separator(sb, k, indent, level + 1);
                write(sb, l.get(k), indent, level + 1);
            }
            close(sb, indent, level);
            sb.append(']');
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            sb.append('{');
            int k = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                separator(sb, k++, indent, level + 1);
                string(sb, String.valueOf(e.getKey()));
                sb.append(": ");
                write(sb, e.getValue(), indent, level + 1);
            }
            close(sb, indent, level);
            sb.append('}');
        } else {
            string(sb, String.valueOf(v));
        }
    }

    private static void separator(StringBuilder sb, int k, int indent, int level) {
        if (indent < 0) {
            if (k > 0) sb.append(", ");
        } else {
            if (k > 0) sb.append(',');
            sb.append('\n').append(" ".repeat(indent * level));
        }
    }

    private static void close(StringBuilder sb, int indent, int level) {
        if (indent >= 0) sb.append('\n').append(" ".repeat(indent * level));
    }

    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    /** Python's repr of a float: shortest round-trip digits, at least one decimal ("1.0", "1e-05"). */
    static String pyFloat(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e16) return String.valueOf((long) d) + ".0";
        String s = Double.toString(d);
        if (s.contains("E")) {
            String[] parts = s.split("E");
            int exp = Integer.parseInt(parts[1]);
            String mant = parts[0].endsWith(".0") ? parts[0].substring(0, parts[0].length() - 2) : parts[0];
            return mant + "e" + (exp < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp));
        }
        return s;
    }
}
