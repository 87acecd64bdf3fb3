package dev.freehold.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.freehold.core.format.gguf.GgufValue;

/** GGUF metadata as JSON: scalars as themselves; arrays summarised (type, length, first elements), as inspect shows them. */
final class JsonValues {
    private static final int ARRAY_HEAD = 8;

    private JsonValues() {
    }

    static JsonNode of(ObjectMapper m, GgufValue v) {
        if (!v.isArray()) {
            return switch (v.value()) {
                case String s -> m.getNodeFactory().textNode(s);
                case Boolean b -> m.getNodeFactory().booleanNode(b);
                case Long l -> m.getNodeFactory().numberNode(l);
                case Double d -> m.getNodeFactory().numberNode(d);
                default -> m.getNodeFactory().textNode(String.valueOf(v.value()));
            };
        }
        ObjectNode o = m.createObjectNode();
        o.put("type", "array");
        o.put("element_type", v.elementType().name().toLowerCase());
        o.put("length", v.length());
        ArrayNode head = o.putArray("head");
        int n = Math.min(ARRAY_HEAD, v.length());
        for (int i = 0; i < n; i++) {
            switch (v.value()) {
                case long[] a -> head.add(a[i]);
                case double[] a -> head.add(a[i]);
                case boolean[] a -> head.add(a[i]);
                case String[] a -> head.add(a[i]);
                case GgufValue[] a -> head.add(of(m, a[i]));
                default -> { }
            }
        }
        return o;
    }
}
