package dev.freehold.core.chat;

import dev.freehold.core.chat.JinjaParser.*;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Evaluates a parsed template with Python's semantics where chat templates depend on them: truthiness, {@code str()}
 * of values, equality of lists and dicts, {@code in}, slices with negative indices, and {@code tojson} as
 * {@code json.dumps(ensure_ascii=False)}. Values are Java Strings, Longs, Doubles, Booleans, Lists, Maps, plus the
 * {@link #NONE} and {@link #UNDEFINED} markers.
 */
final class JinjaRuntime {
    static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };
    static final Object UNDEFINED = new Object() {
        @Override
        public String toString() {
            return "";
        }
    };

    /** {@code namespace()}: attributes may be assigned with {@code set ns.x = ...}. */
    static final class Namespace extends LinkedHashMap<String, Object> {
    }

    private static final class LoopControl extends RuntimeException {
        final boolean isBreak;

        LoopControl(boolean isBreak) {
            super(null, null, false, false);
            this.isBreak = isBreak;
        }
    }

    /** Nested scopes: a for-loop body gets its own, as in Jinja. */
    private final List<Map<String, Object>> scopes = new ArrayList<>();
    private final StringBuilder out = new StringBuilder();
    private int steps;
    private static final int MAX_STEPS = 5_000_000;

    JinjaRuntime(Map<String, Object> context) {
        Map<String, Object> globals = new HashMap<>(context);
        scopes.add(globals);
    }

    String render(List<Stmt> body) {
        exec(body);
        return out.toString();
    }

    private void exec(List<Stmt> body) {
        for (Stmt s : body) exec(s);
    }

    private void exec(Stmt stmt) {
        if (++steps > MAX_STEPS) throw new TemplateException("the template runs too long (over " + MAX_STEPS + " steps)");
        switch (stmt) {
            case Text t -> out.append(t.text());
            case Output o -> out.append(str(eval(o.expr())));
            case If i -> {
                for (int k = 0; k < i.conditions().size(); k++) {
                    if (truthy(eval(i.conditions().get(k)))) {
                        exec(i.branches().get(k));
                        return;
                    }
                }
                exec(i.otherwise());
            }
            case For f -> loop(f);
            case Set s -> assign(s.target(), eval(s.value()));
            case SetBlock b -> {
                int mark = out.length();
                exec(b.body());
                String captured = out.substring(mark);
                out.setLength(mark);
                scopes.getLast().put(b.name(), captured);
            }
            case Break b -> throw new LoopControl(true);
            case Continue c -> throw new LoopControl(false);
        }
    }

    private void loop(For f) {
        List<Object> items = new ArrayList<>();
        Object iterable = eval(f.iterable());
        for (Object item : iterate(iterable)) {
            if (f.filter() != null) {
                Map<String, Object> probe = new HashMap<>();
                bindTargets(probe, f.targets(), item);
                scopes.add(probe);
                boolean keep;
                try {
                    keep = truthy(eval(f.filter()));
                } finally {
                    scopes.removeLast();
                }
                if (!keep) continue;
            }
            items.add(item);
        }
        if (items.isEmpty()) {
            exec(f.otherwise());
            return;
        }
        Map<String, Object> scope = new HashMap<>();
        scopes.add(scope);
        try {
            for (int k = 0; k < items.size(); k++) {
                Map<String, Object> loopVar = new LinkedHashMap<>();
                loopVar.put("index", (long) k + 1);
                loopVar.put("index0", (long) k);
                loopVar.put("revindex", (long) (items.size() - k));
                loopVar.put("revindex0", (long) (items.size() - k - 1));
                loopVar.put("first", k == 0);
                loopVar.put("last", k == items.size() - 1);
                loopVar.put("length", (long) items.size());
                loopVar.put("previtem", k > 0 ? items.get(k - 1) : UNDEFINED);
                loopVar.put("nextitem", k + 1 < items.size() ? items.get(k + 1) : UNDEFINED);
                scope.put("loop", loopVar);
                bindTargets(scope, f.targets(), items.get(k));
                try {
                    exec(f.body());
                } catch (LoopControl lc) {
                    if (lc.isBreak) break;
                }
            }
        } finally {
            scopes.removeLast();
        }
    }

    private static void bindTargets(Map<String, Object> scope, List<String> targets, Object item) {
        if (targets.size() == 1) {
            scope.put(targets.getFirst(), item);
            return;
        }
        List<Object> parts = iterate(item);
        if (parts.size() != targets.size()) throw new TemplateException("cannot unpack %d values into %s".formatted(parts.size(), targets));
        for (int k = 0; k < targets.size(); k++) scope.put(targets.get(k), parts.get(k));
    }

    private void assign(Expr target, Object value) {
        if (target instanceof Name n) {
            scopes.getLast().put(n.name(), value);
        } else if (target instanceof Attr a && eval(a.target()) instanceof Namespace ns) {
            ns.put(a.name(), value);
        } else {
            throw new TemplateException("can only assign to names and namespace attributes");
        }
    }

    // ----------------------------------------------------------------------------------------- expressions

    Object eval(Expr e) {
        return switch (e) {
            case Literal l -> l.value();
            case Name n -> lookup(n.name());
            case ListExpr l -> {
                List<Object> list = new ArrayList<>();
                for (Expr x : l.items()) list.add(eval(x));
                yield list;
            }
            case DictExpr d -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (int k = 0; k < d.keys().size(); k++) m.put(str(eval(d.keys().get(k))), eval(d.values().get(k)));
                yield m;
            }
            case Attr a -> attribute(eval(a.target()), a.name());
            case Index x -> index(eval(x.target()), eval(x.index()));
            case Slice sl -> slice(eval(sl.target()), sl.start() == null ? null : eval(sl.start()),
                    sl.stop() == null ? null : eval(sl.stop()), sl.step() == null ? null : eval(sl.step()));
            case Call c -> call(c);
            case Filter f -> JinjaFilters.filter(this, f.name(), eval(f.target()), evalAll(f.args()), evalAll(f.kwargs()));
            case Test t -> JinjaFilters.test(this, t.name(), eval(t.target()), evalAll(t.args())) != t.negated();
            case Unary u -> switch (u.op()) {
                case "not" -> !truthy(eval(u.operand()));
                case "-" -> {
                    Object v = eval(u.operand());
                    yield v instanceof Long l ? (Object) (-l) : (Object) (-number(v));
                }
                default -> throw new TemplateException("unknown operator " + u.op());
            };
            case Binary b -> binary(b);
            case Cond c -> truthy(eval(c.condition())) ? eval(c.then()) : eval(c.otherwise());
        };
    }

    private List<Object> evalAll(List<Expr> es) {
        List<Object> r = new ArrayList<>();
        for (Expr x : es) r.add(eval(x));
        return r;
    }

    private Map<String, Object> evalAll(Map<String, Expr> es) {
        Map<String, Object> r = new LinkedHashMap<>();
        es.forEach((k, v) -> r.put(k, eval(v)));
        return r;
    }

    private Object lookup(String name) {
        for (int k = scopes.size() - 1; k >= 0; k--) {
            Map<String, Object> s = scopes.get(k);
            if (s.containsKey(name)) return s.get(name);
        }
        return UNDEFINED;
    }

    private Object binary(Binary b) {
        switch (b.op()) {
            case "and" -> {
                Object l = eval(b.left());
                return truthy(l) ? eval(b.right()) : l;
            }
            case "or" -> {
                Object l = eval(b.left());
                return truthy(l) ? l : eval(b.right());
            }
            default -> {
            }
        }
        Object l = eval(b.left());
        Object r = eval(b.right());
        return switch (b.op()) {
            case "==" -> pyEquals(l, r);
            case "!=" -> !pyEquals(l, r);
            case "<", "<=", ">", ">=" -> {
                int c = compare(l, r);
                yield switch (b.op()) {
                    case "<" -> c < 0;
                    case "<=" -> c <= 0;
                    case ">" -> c > 0;
                    default -> c >= 0;
                };
            }
            case "in" -> contains(r, l);
            case "~" -> str(l) + str(r);
            case "+" -> {
                if (l instanceof String || r instanceof String) {
                    if (!(l instanceof String) || !(r instanceof String)) {
                        throw new TemplateException("cannot add %s and %s".formatted(typeName(l), typeName(r)));
                    }
                    yield (String) l + r;
                }
                if (l instanceof List<?> a && r instanceof List<?> c) {
                    List<Object> j = new ArrayList<>(a);
                    j.addAll(c);
                    yield j;
                }
                yield arithmetic('+', l, r);
            }
            case "-", "*", "%" -> {
                if (b.op().equals("*") && l instanceof String s && r instanceof Long n) yield s.repeat((int) Math.max(0, n));
                yield arithmetic(b.op().charAt(0), l, r);
            }
            case "/" -> number(l) / number(r);
            case "//" -> (l instanceof Long x && r instanceof Long y) ? (Object) Math.floorDiv(x, y) : (Object) Math.floor(number(l) / number(r));
            default -> throw new TemplateException("unknown operator " + b.op());
        };
    }

    private static Object arithmetic(char op, Object l, Object r) {
        if (l instanceof Long x && r instanceof Long y) {
            return switch (op) {
                case '+' -> x + y;
                case '-' -> x - y;
                case '*' -> x * y;
                default -> Math.floorMod(x, y);
            };
        }
        double x = number(l);
        double y = number(r);
        return switch (op) {
            case '+' -> x + y;
            case '-' -> x - y;
            case '*' -> x * y;
            default -> x - Math.floor(x / y) * y;
        };
    }

    private Object call(Call c) {
        if (c.target() instanceof Attr a) {
            Object target = eval(a.target());
            return JinjaFilters.method(this, target, a.name(), evalAll(c.args()), evalAll(c.kwargs()));
        }
        if (c.target() instanceof Name n) {
            List<Object> args = evalAll(c.args());
            Map<String, Object> kwargs = evalAll(c.kwargs());
            switch (n.name()) {
                case "raise_exception" -> throw new TemplateException("the template raised an error: " + (args.isEmpty() ? "" : str(args.getFirst())));
                case "namespace" -> {
                    Namespace ns = new Namespace();
                    ns.putAll(kwargs);
                    return ns;
                }
                case "range" -> {
                    long start = args.size() > 1 ? (long) number(args.get(0)) : 0;
                    long stop = (long) number(args.get(args.size() > 1 ? 1 : 0));
                    long step = args.size() > 2 ? (long) number(args.get(2)) : 1;
                    if (step == 0 || Math.abs((stop - start) / step) > 1_000_000) throw new TemplateException("range too large");
                    List<Object> r = new ArrayList<>();
                    for (long v = start; step > 0 ? v < stop : v > stop; v += step) r.add(v);
                    return r;
                }
                default -> {
                    Object f = lookup(n.name());
                    if (f instanceof java.util.function.Function<?, ?> fn) {
                        @SuppressWarnings("unchecked")
                        java.util.function.Function<List<Object>, Object> g = (java.util.function.Function<List<Object>, Object>) fn;
                        return g.apply(args);
                    }
                    throw new TemplateException("'" + n.name() + "' is not a function the templates can call");
                }
            }
        }
        throw new TemplateException("this call is not supported");
    }

    // ----------------------------------------------------------------------------------------- Python semantics

    static Object attribute(Object target, String name) {
        if (target instanceof Map<?, ?> m) return m.containsKey(name) ? m.get(name) : UNDEFINED;
        return UNDEFINED;
    }

    static Object index(Object target, Object key) {
        if (target instanceof Map<?, ?> m) {
            String k = str(key);
            return m.containsKey(k) ? m.get(k) : UNDEFINED;
        }
        if (target instanceof List<?> l && key instanceof Long i) {
            long k = i < 0 ? l.size() + i : i;
            return k >= 0 && k < l.size() ? l.get((int) k) : UNDEFINED;
        }
        if (target instanceof String s && key instanceof Long i) {
            int[] cps = s.codePoints().toArray();
            long k = i < 0 ? cps.length + i : i;
            return k >= 0 && k < cps.length ? new String(cps, (int) k, 1) : UNDEFINED;
        }
        return UNDEFINED;
    }

    static Object slice(Object target, Object start, Object stop, Object step) {
        List<Object> items = target instanceof String s ? new ArrayList<>(s.codePoints().mapToObj(cp -> (Object) new String(Character.toChars(cp))).toList())
                : iterate(target);
        int n = items.size();
        long st = step == null || step == NONE ? 1 : (long) number(step);
        if (st == 0) throw new TemplateException("slice step cannot be zero");
        long a;
        long b;
        if (st > 0) {
            a = start == null || start == NONE ? 0 : clamp((long) number(start), n, 0, n);
            b = stop == null || stop == NONE ? n : clamp((long) number(stop), n, 0, n);
        } else {
            a = start == null || start == NONE ? n - 1 : clamp((long) number(start), n, -1, n - 1);
            b = stop == null || stop == NONE ? -1 : clamp((long) number(stop), n, -1, n - 1);
        }
        List<Object> out = new ArrayList<>();
        for (long k = a; st > 0 ? k < b : k > b; k += st) out.add(items.get((int) k));
        if (target instanceof String) {
            StringBuilder sb = new StringBuilder();
            for (Object o : out) sb.append(o);
            return sb.toString();
        }
        return out;
    }

    private static long clamp(long v, int n, long lo, long hi) {
        if (v < 0) v += n;
        return Math.max(lo, Math.min(hi, v));
    }

    static List<Object> iterate(Object v) {
        if (v instanceof List<?> l) return new ArrayList<>(l);
        if (v instanceof Map<?, ?> m) return new ArrayList<>(m.keySet());
        if (v instanceof String s) return new ArrayList<>(s.codePoints().mapToObj(cp -> (Object) new String(Character.toChars(cp))).toList());
        if (v == UNDEFINED || v == NONE) {
            if (v == NONE) throw new TemplateException("'NoneType' object is not iterable");
            return new ArrayList<>();
        }
        throw new TemplateException("'" + typeName(v) + "' object is not iterable");
    }

    static boolean truthy(Object v) {
        if (v == null || v == NONE || v == UNDEFINED) return false;
        if (v instanceof Boolean b) return b;
        if (v instanceof String s) return !s.isEmpty();
        if (v instanceof Long l) return l != 0;
        if (v instanceof Double d) return d != 0;
        if (v instanceof List<?> l) return !l.isEmpty();
        if (v instanceof Map<?, ?> m) return !m.isEmpty();
        return true;
    }

    static double number(Object v) {
        if (v instanceof Long l) return l;
        if (v instanceof Double d) return d;
        if (v instanceof Boolean b) return b ? 1 : 0;
        throw new TemplateException("'" + typeName(v) + "' is not a number");
    }

    static boolean pyEquals(Object a, Object b) {
        if ((a instanceof Long || a instanceof Double || a instanceof Boolean) && (b instanceof Long || b instanceof Double || b instanceof Boolean)) {
            return number(a) == number(b);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) return false;
            for (int k = 0; k < x.size(); k++) if (!pyEquals(x.get(k), y.get(k))) return false;
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (!x.keySet().equals(y.keySet())) return false;
            for (Object k : x.keySet()) if (!pyEquals(x.get(k), y.get(k))) return false;
            return true;
        }
        return Objects.equals(a, b);
    }

    private static int compare(Object a, Object b) {
        if (a instanceof String x && b instanceof String y) return x.compareTo(y);
        return Double.compare(number(a), number(b));
    }

    static boolean contains(Object container, Object item) {
        if (container instanceof String s) return s.contains(str(item));
        if (container instanceof Map<?, ?> m) return m.containsKey(str(item));
        if (container instanceof List<?> l) {
            for (Object o : l) if (pyEquals(o, item)) return true;
            return false;
        }
        if (container == UNDEFINED || container == NONE) return false;
        throw new TemplateException("'in' needs a string, list or mapping, not " + typeName(container));
    }

    /** Python's str(): numbers as Python prints them, True/False/None, lists and dicts as repr. */
    static String str(Object v) {
        if (v instanceof String s) return s;
        if (v == UNDEFINED) return "";
        return repr(v);
    }

    static String repr(Object v) {
        if (v == null || v == NONE) return "None";
        if (v == UNDEFINED) return "";
        if (v instanceof String s) return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'";
        if (v instanceof Boolean b) return b ? "True" : "False";
        if (v instanceof Double d) return PythonJson.pyFloat(d);
        if (v instanceof List<?> l) {
            StringBuilder sb = new StringBuilder("[");
            for (int k = 0; k < l.size(); k++) sb.append(k > 0 ? ", " : "").append(repr(l.get(k)));
            return sb.append("]").toString();
        }
        if (v instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            int k = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) sb.append(k++ > 0 ? ", " : "").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
            return sb.append("}").toString();
        }
        return String.valueOf(v);
    }

    static String typeName(Object v) {
        if (v == null || v == NONE) return "NoneType";
        if (v == UNDEFINED) return "Undefined";
        if (v instanceof String) return "str";
        if (v instanceof Long) return "int";
        if (v instanceof Double) return "float";
        if (v instanceof Boolean) return "bool";
        if (v instanceof List) return "list";
        if (v instanceof Map) return "dict";
        return v.getClass().getSimpleName();
    }
}
