package dev.freehold.core.chat;

import java.util.List;
import java.util.Map;

/**
 * A compiled Jinja template, with the subset of Jinja and the environment Hugging Face uses for chat templates
 * ({@code trim_blocks}, {@code lstrip_blocks}, loop controls, {@code tojson} as Python's json.dumps,
 * {@code raise_exception}, {@code namespace}). Constructs outside the subset fail at compile or render time with
 * a {@link TemplateException} naming them. Immutable; render is thread-safe.
 */
public final class JinjaTemplate {
    private final List<JinjaParser.Stmt> body;

    private JinjaTemplate(List<JinjaParser.Stmt> body) {
        this.body = body;
    }

    public static JinjaTemplate compile(String source) {
        return new JinjaTemplate(JinjaParser.parse(source));
    }

    /** Renders with the given variables: Strings, numbers, Booleans, Lists and Maps (null is Python's None). */
    public String render(Map<String, Object> variables) {
        return new JinjaRuntime(toTemplateValues(variables)).render(body);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> toTemplateValues(Map<String, Object> vars) {
        return (Map<String, Object>) convert(vars);
    }

    /** Java values to template values: null to None, ints to longs, floats to doubles. */
    private static Object convert(Object v) {
        if (v == null) return JinjaRuntime.NONE;
        if (v instanceof Integer i) return (long) i;
        if (v instanceof Float f) return (double) f;
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new java.util.LinkedHashMap<>();
            m.forEach((k, val) -> out.put(String.valueOf(k), convert(val)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new java.util.ArrayList<>();
            for (Object o : l) out.add(convert(o));
            return out;
        }
        return v;
    }
}
