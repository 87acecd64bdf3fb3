package dev.freehold.core.chat;

import static dev.freehold.core.chat.JinjaRuntime.NONE;
import static dev.freehold.core.chat.JinjaRuntime.UNDEFINED;
import static dev.freehold.core.chat.JinjaRuntime.iterate;
import static dev.freehold.core.chat.JinjaRuntime.str;
import static dev.freehold.core.chat.JinjaRuntime.truthy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The filters, tests and methods that chat templates use, with Jinja's and Python's behaviour. */
final class JinjaFilters {
    private JinjaFilters() {
    }

    static Object filter(JinjaRuntime rt, String name, Object v, List<Object> args, Map<String, Object> kwargs) {
        return switch (name) {
            case "trim" -> str(v).strip();
            case "tojson" -> PythonJson.dumps(v, kwargs.containsKey("indent") ? (int) JinjaRuntime.number(kwargs.get("indent"))
                    : args.isEmpty() ? -1 : (int) JinjaRuntime.number(args.getFirst()));
            case "length", "count" -> (long) (v instanceof String s ? s.codePointCount(0, s.length()) : iterate(v).size());
            case "list" -> iterate(v);
            case "string" -> str(v);
            case "lower" -> str(v).toLowerCase(Locale.ROOT);
            case "upper" -> str(v).toUpperCase(Locale.ROOT);
            case "capitalize" -> {
                String s = str(v);
                yield s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            }
            case "title" -> title(str(v));
            case "first" -> iterate(v).isEmpty() ? UNDEFINED : iterate(v).getFirst();
            case "last" -> iterate(v).isEmpty() ? UNDEFINED : iterate(v).getLast();
            case "join" -> {
                StringBuilder sb = new StringBuilder();
                String sep = args.isEmpty() ? "" : str(args.getFirst());
                List<Object> items = iterate(v);
                for (int k = 0; k < items.size(); k++) sb.append(k > 0 ? sep : "").append(str(items.get(k)));
                yield sb.toString();
            }
            case "items" -> {
                if (!(v instanceof Map<?, ?> m)) throw new TemplateException("items needs a mapping, not " + JinjaRuntime.typeName(v));
                List<Object> pairs = new ArrayList<>();
                m.forEach((k, val) -> pairs.add(List.of(k, val)));
                yield pairs;
            }
            case "default", "d" -> v == UNDEFINED || (args.size() > 1 && truthy(args.get(1)) && !truthy(v)) ? (args.isEmpty() ? "" : args.getFirst()) : v;
            case "replace" -> str(v).replace(str(args.get(0)), str(args.get(1)));
            case "safe", "e", "escape" -> name.equals("safe") ? v : str(v);
            case "int" -> v instanceof String s ? parseLong(s) : (long) JinjaRuntime.number(v);
            case "float" -> v instanceof String s ? Double.parseDouble(s.strip()) : JinjaRuntime.number(v);
            case "abs" -> v instanceof Long l ? (Object) Math.abs(l) : (Object) Math.abs(JinjaRuntime.number(v));
            case "reverse" -> {
                if (v instanceof String s) yield new StringBuilder(s).reverse().toString();
                List<Object> l = iterate(v);
                java.util.Collections.reverse(l);
                yield l;
            }
            case "select", "reject" -> {
                List<Object> out = new ArrayList<>();
                for (Object item : iterate(v)) {
                    boolean ok = args.isEmpty() ? truthy(item) : test(rt, str(args.getFirst()), item, args.subList(1, args.size()));
                    if (ok == name.equals("select")) out.add(item);
                }
                yield out;
            }
            case "selectattr", "rejectattr" -> {
                List<Object> out = new ArrayList<>();
                String attr = str(args.getFirst());
                for (Object item : iterate(v)) {
                    Object a = JinjaRuntime.attribute(item, attr);
                    boolean ok = args.size() < 2 ? truthy(a) : test(rt, str(args.get(1)), a, args.subList(2, args.size()));
                    if (ok == name.equals("selectattr")) out.add(item);
                }
                yield out;
            }
            case "map" -> {
                List<Object> out = new ArrayList<>();
                Object attr = kwargs.get("attribute");
                for (Object item : iterate(v)) {
                    out.add(attr != null ? JinjaRuntime.attribute(item, str(attr)) : filter(rt, str(args.getFirst()), item, List.of(), Map.of()));
                }
                yield out;
            }
            case "unique" -> {
                List<Object> out = new ArrayList<>();
                for (Object item : iterate(v)) if (!JinjaRuntime.contains(out, item)) out.add(item);
                yield out;
            }
            default -> throw new TemplateException("filter '" + name + "' is not supported");
        };
    }

    private static Object parseLong(String s) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return 0L;
        }
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder();
        boolean start = true;
        for (char c : s.toCharArray()) {
            sb.append(start ? Character.toUpperCase(c) : Character.toLowerCase(c));
            start = !Character.isLetterOrDigit(c);
        }
        return sb.toString();
    }

    static boolean test(JinjaRuntime rt, String name, Object v, List<Object> args) {
        return switch (name) {
            case "defined" -> v != UNDEFINED;
            case "undefined" -> v == UNDEFINED;
            case "none" -> v == NONE || v == null;
            case "string" -> v instanceof String;
            case "number" -> v instanceof Long || v instanceof Double;
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "mapping" -> v instanceof Map;
            case "sequence" -> v instanceof List || v instanceof String || v instanceof Map;
            case "iterable" -> v instanceof List || v instanceof String || v instanceof Map;
            case "equalto", "eq", "==", "sameas" -> JinjaRuntime.pyEquals(v, args.getFirst());
            case "ne", "!=" -> !JinjaRuntime.pyEquals(v, args.getFirst());
            case "in" -> JinjaRuntime.contains(args.getFirst(), v);
            case "odd" -> ((long) JinjaRuntime.number(v)) % 2 != 0;
            case "even" -> ((long) JinjaRuntime.number(v)) % 2 == 0;
            case "lower" -> str(v).equals(str(v).toLowerCase(Locale.ROOT));
            case "upper" -> str(v).equals(str(v).toUpperCase(Locale.ROOT));
            default -> throw new TemplateException("test '" + name + "' is not supported");
        };
    }

    static Object method(JinjaRuntime rt, Object target, String name, List<Object> args, Map<String, Object> kwargs) {
        if (target instanceof String s) {
            return switch (name) {
                case "strip" -> args.isEmpty() ? s.strip() : stripChars(s, str(args.getFirst()), true, true);
                case "lstrip" -> args.isEmpty() ? s.stripLeading() : stripChars(s, str(args.getFirst()), true, false);
                case "rstrip" -> args.isEmpty() ? s.stripTrailing() : stripChars(s, str(args.getFirst()), false, true);
                case "split" -> split(s, args.isEmpty() || args.getFirst() == NONE ? null : str(args.getFirst()),
                        args.size() > 1 ? (int) JinjaRuntime.number(args.get(1)) : -1);
                case "startswith" -> s.startsWith(str(args.getFirst()));
                case "endswith" -> s.endsWith(str(args.getFirst()));
                case "upper" -> s.toUpperCase(Locale.ROOT);
                case "lower" -> s.toLowerCase(Locale.ROOT);
                case "title" -> title(s);
                case "capitalize" -> filter(rt, "capitalize", s, List.of(), Map.of());
                case "replace" -> s.replace(str(args.get(0)), str(args.get(1)));
                case "find" -> (long) s.indexOf(str(args.getFirst()));
                case "count" -> (long) s.split(java.util.regex.Pattern.quote(str(args.getFirst())), -1).length - 1;
                default -> throw new TemplateException("string method '" + name + "' is not supported");
            };
        }
        if (target instanceof Map<?, ?> m) {
            return switch (name) {
                case "items" -> filter(rt, "items", m, List.of(), Map.of());
                case "keys" -> new ArrayList<Object>(m.keySet());
                case "values" -> new ArrayList<Object>(m.values());
                case "get" -> m.containsKey(str(args.getFirst())) ? m.get(str(args.getFirst())) : args.size() > 1 ? args.get(1) : NONE;
                default -> throw new TemplateException("mapping method '" + name + "' is not supported");
            };
        }
        if (target instanceof List<?> l) {
            if (name.equals("index")) return (long) l.indexOf(args.getFirst());
            throw new TemplateException("list method '" + name + "' is not supported");
        }
        throw new TemplateException("'" + JinjaRuntime.typeName(target) + "' has no method '" + name + "'");
    }

    private static String stripChars(String s, String chars, boolean left, boolean right) {
        int a = 0;
        int b = s.length();
        while (left && a < b && chars.indexOf(s.charAt(a)) >= 0) a++;
        while (right && b > a && chars.indexOf(s.charAt(b - 1)) >= 0) b--;
        return s.substring(a, b);
    }

    /** Python's str.split: with no separator, runs of whitespace split and ends are ignored. */
    private static List<Object> split(String s, String sep, int max) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            for (String part : s.strip().split("\\s+", max < 0 ? 0 : max + 1)) if (!part.isEmpty()) out.add(part);
            return out;
        }
        if (sep.isEmpty()) throw new TemplateException("empty separator");
        int from = 0;
        int splits = 0;
        while (max < 0 || splits < max) {
            int at = s.indexOf(sep, from);
            if (at < 0) break;
            out.add(s.substring(from, at));
            from = at + sep.length();
            splits++;
        }
        out.add(s.substring(from));
        return out;
    }
}
