package dev.freehold.core.chat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Parses lexed pieces into statements, and expressions with a precedence-climbing parser (Jinja's grammar). */
final class JinjaParser {
    // ----------------------------------------------------------------------------------------- syntax tree

    sealed interface Expr permits Literal, Name, ListExpr, DictExpr, Attr, Index, Slice, Call, Filter, Test, Unary, Binary, Cond {
    }

    record Literal(Object value) implements Expr {
    }

    record Name(String name) implements Expr {
    }

    record ListExpr(List<Expr> items) implements Expr {
    }

    record DictExpr(List<Expr> keys, List<Expr> values) implements Expr {
    }

    record Attr(Expr target, String name) implements Expr {
    }

    record Index(Expr target, Expr index) implements Expr {
    }

    record Slice(Expr target, Expr start, Expr stop, Expr step) implements Expr {
    }

    record Call(Expr target, List<Expr> args, Map<String, Expr> kwargs) implements Expr {
    }

    record Filter(Expr target, String name, List<Expr> args, Map<String, Expr> kwargs) implements Expr {
    }

    record Test(Expr target, String name, List<Expr> args, boolean negated) implements Expr {
    }

    record Unary(String op, Expr operand) implements Expr {
    }

    record Binary(String op, Expr left, Expr right) implements Expr {
    }

    record Cond(Expr then, Expr condition, Expr otherwise) implements Expr {
    }

    sealed interface Stmt permits Text, Output, If, For, Set, SetBlock, Break, Continue {
    }

    record Text(String text) implements Stmt {
    }

    record Output(Expr expr, int line) implements Stmt {
    }

    record If(List<Expr> conditions, List<List<Stmt>> branches, List<Stmt> otherwise) implements Stmt {
    }

    record For(List<String> targets, Expr iterable, Expr filter, List<Stmt> body, List<Stmt> otherwise) implements Stmt {
    }

    record Set(Expr target, Expr value) implements Stmt {
    }

    record SetBlock(String name, List<Stmt> body) implements Stmt {
    }

    record Break() implements Stmt {
    }

    record Continue() implements Stmt {
    }

    // ----------------------------------------------------------------------------------------- statements

    private final List<JinjaLexer.Piece> pieces;
    private int pos;

    private JinjaParser(List<JinjaLexer.Piece> pieces) {
        this.pieces = pieces;
    }

    static List<Stmt> parse(String source) {
        JinjaParser p = new JinjaParser(JinjaLexer.lex(source));
        List<Stmt> body = p.block(List.of());
        if (p.pos < p.pieces.size()) {
            JinjaLexer.Piece piece = p.pieces.get(p.pos);
            throw new TemplateException("line %d: unexpected '{%% %s %%}'".formatted(piece.line(), piece.text()));
        }
        return body;
    }

    /** Statements until one of the given block keywords (not consumed). */
    private List<Stmt> block(List<String> until) {
        List<Stmt> out = new ArrayList<>();
        while (pos < pieces.size()) {
            JinjaLexer.Piece piece = pieces.get(pos);
            switch (piece.kind()) {
                case TEXT -> {
                    out.add(new Text(piece.text()));
                    pos++;
                }
                case OUTPUT -> {
                    out.add(new Output(new ExprParser(piece.text(), piece.line()).parseAll(), piece.line()));
                    pos++;
                }
                case STATEMENT -> {
                    String keyword = keyword(piece.text());
                    if (until.contains(keyword)) return out;
                    pos++;
                    out.add(statement(keyword, piece));
                }
            }
        }
        if (!until.isEmpty()) throw new TemplateException("the template ends inside a block: expected {% " + until.getLast() + " %}");
        return out;
    }

    private static String keyword(String text) {
        int sp = 0;
        while (sp < text.length() && Character.isJavaIdentifierPart(text.charAt(sp))) sp++;
        return text.substring(0, sp);
    }

    private Stmt statement(String keyword, JinjaLexer.Piece piece) {
        String rest = piece.text().substring(keyword.length()).strip();
        int line = piece.line();
        switch (keyword) {
            case "if" -> {
                List<Expr> conds = new ArrayList<>();
                List<List<Stmt>> branches = new ArrayList<>();
                conds.add(new ExprParser(rest, line).parseAll());
                branches.add(block(List.of("elif", "else", "endif")));
                List<Stmt> otherwise = List.of();
                while (true) {
                    JinjaLexer.Piece p = pieces.get(pos++);
                    String k = keyword(p.text());
                    if (k.equals("elif")) {
                        conds.add(new ExprParser(p.text().substring(4).strip(), p.line()).parseAll());
                        branches.add(block(List.of("elif", "else", "endif")));
                    } else if (k.equals("else")) {
                        otherwise = block(List.of("endif"));
                    } else {
                        return new If(conds, branches, otherwise);
                    }
                }
            }
            case "for" -> {
                ExprParser ep = new ExprParser(rest, line);
                List<String> targets = new ArrayList<>();
                do {
                    targets.add(ep.identifier());
                } while (ep.accept(","));
                ep.expectWord("in");
                Expr iterable = ep.parseOr(false);
                Expr filter = ep.acceptWord("if") ? ep.parseOr(true) : null;
                ep.end();
                List<Stmt> body = block(List.of("else", "endfor"));
                List<Stmt> otherwise = List.of();
                if (keyword(pieces.get(pos++).text()).equals("else")) {
                    otherwise = block(List.of("endfor"));
                    pos++;
                }
                return new For(targets, iterable, filter, body, otherwise);
            }
            case "set" -> {
                int eq = findAssignment(rest);
                if (eq < 0) {
                    String name = rest.strip();
                    List<Stmt> body = block(List.of("endset"));
                    pos++;
                    return new SetBlock(name, body);
                }
                Expr target = new ExprParser(rest.substring(0, eq), line).parseAll();
                if (!(target instanceof Name) && !(target instanceof Attr)) {
                    throw new TemplateException("line %d: cannot assign to '%s'".formatted(line, rest.substring(0, eq).strip()));
                }
                return new Set(target, new ExprParser(rest.substring(eq + 1), line).parseAll());
            }
            case "break" -> {
                return new Break();
            }
            case "continue" -> {
                return new Continue();
            }
            default -> throw new TemplateException("line %d: '{%% %s %%}' is not supported (supported: if, for, set, break, continue)"
                    .formatted(line, keyword));
        }
    }

    /** The index of the '=' of an assignment (not part of ==, !=, <=, >=), or -1. */
    private static int findAssignment(String s) {
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\') i++;
                else if (c == quote) quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '=' && (i + 1 >= s.length() || s.charAt(i + 1) != '=') && (i == 0 || "=!<>".indexOf(s.charAt(i - 1)) < 0)) {
                return i;
            }
        }
        return -1;
    }

    // ----------------------------------------------------------------------------------------- expressions

    static final class ExprParser {
        private final String s;
        private final int line;
        private int i;

        ExprParser(String s, int line) {
            this.s = s;
            this.line = line;
        }

        Expr parseAll() {
            Expr e = parseConditional();
            end();
            return e;
        }

        void end() {
            skip();
            if (i < s.length()) throw error("unexpected '" + s.substring(i) + "'");
        }

        private TemplateException error(String what) {
            return new TemplateException("line %d: %s in expression '%s'".formatted(line, what, s.strip()));
        }

        private void skip() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }

        boolean accept(String token) {
            skip();
            if (s.startsWith(token, i)) {
                i += token.length();
                return true;
            }
            return false;
        }

        boolean acceptWord(String word) {
            skip();
            if (s.startsWith(word, i) && (i + word.length() >= s.length() || !Character.isJavaIdentifierPart(s.charAt(i + word.length())))) {
                i += word.length();
                return true;
            }
            return false;
        }

        void expectWord(String word) {
            if (!acceptWord(word)) throw error("expected '" + word + "'");
        }

        private void expect(String token) {
            if (!accept(token)) throw error("expected '" + token + "'");
        }

        String identifier() {
            skip();
            int start = i;
            while (i < s.length() && (Character.isJavaIdentifierPart(s.charAt(i)))) i++;
            if (start == i) throw error("expected a name");
            return s.substring(start, i);
        }

        Expr parseConditional() {
            Expr then = parseOr(false);
            int save = i;
            if (acceptWord("if")) {
                Expr cond = parseOr(false);
                Expr otherwise = acceptWord("else") ? parseConditional() : new Literal(JinjaRuntime.UNDEFINED);
                return new Cond(then, cond, otherwise);
            }
            i = save;
            return then;
        }

        /** @param noConditional in a for-loop filter, 'if' has already been consumed */
        Expr parseOr(boolean noConditional) {
            Expr left = parseAnd();
            while (acceptWord("or")) left = new Binary("or", left, parseAnd());
            return left;
        }

        private Expr parseAnd() {
            Expr left = parseNot();
            while (acceptWord("and")) left = new Binary("and", left, parseNot());
            return left;
        }

        private Expr parseNot() {
            if (acceptWord("not")) return new Unary("not", parseNot());
            return parseComparison();
        }

        private Expr parseComparison() {
            Expr left = parseConcat();
            while (true) {
                skip();
                String op = null;
                for (String o : new String[] {"==", "!=", "<=", ">=", "<", ">"}) {
                    if (s.startsWith(o, i)) {
                        op = o;
                        break;
                    }
                }
                if (op != null) {
                    i += op.length();
                    left = new Binary(op, left, parseConcat());
                    continue;
                }
                int save = i;
                if (acceptWord("not") && acceptWord("in")) {
                    left = new Unary("not", new Binary("in", left, parseConcat()));
                    continue;
                }
                i = save;
                if (acceptWord("in")) {
                    left = new Binary("in", left, parseConcat());
                    continue;
                }
                if (acceptWord("is")) {
                    boolean negated = acceptWord("not");
                    String name = identifier();
                    List<Expr> args = new ArrayList<>();
                    skip();
                    if (accept("(")) {
                        args = arguments(new LinkedHashMap<>());
                    } else if (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '\'' || s.charAt(i) == '"')
                            && !startsWithWord("and") && !startsWithWord("or") && !startsWithWord("else") && !startsWithWord("if")) {
                        args.add(parseConcat());
                    }
                    left = new Test(left, name, args, negated);
                    continue;
                }
                return left;
            }
        }

        private boolean startsWithWord(String w) {
            return s.startsWith(w, i) && (i + w.length() >= s.length() || !Character.isJavaIdentifierPart(s.charAt(i + w.length())));
        }

        private Expr parseConcat() {
            Expr left = parseAdditive();
            while (true) {
                skip();
                if (i < s.length() && s.charAt(i) == '~') {
                    i++;
                    left = new Binary("~", left, parseAdditive());
                } else {
                    return left;
                }
            }
        }

        private Expr parseAdditive() {
            Expr left = parseMultiplicative();
            while (true) {
                skip();
                if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                    String op = String.valueOf(s.charAt(i++));
                    left = new Binary(op, left, parseMultiplicative());
                } else {
                    return left;
                }
            }
        }

        private Expr parseMultiplicative() {
            Expr left = parseUnary();
            while (true) {
                skip();
                String op = s.startsWith("//", i) ? "//" : i < s.length() && "*/%".indexOf(s.charAt(i)) >= 0 ? String.valueOf(s.charAt(i)) : null;
                if (op == null) return left;
                i += op.length();
                left = new Binary(op, left, parseUnary());
            }
        }

        private Expr parseUnary() {
            skip();
            if (i < s.length() && s.charAt(i) == '-') {
                i++;
                return new Unary("-", parseUnary());
            }
            if (i < s.length() && s.charAt(i) == '+') {
                i++;
                return parseUnary();
            }
            return parsePostfix(parsePrimary());
        }

        private Expr parsePostfix(Expr e) {
            while (true) {
                skip();
                if (accept(".")) {
                    e = new Attr(e, identifier());
                } else if (accept("[")) {
                    Expr start = null;
                    Expr stop = null;
                    Expr step = null;
                    skip();
                    if (!s.startsWith(":", i)) start = parseConditional();
                    if (accept(":")) {
                        skip();
                        if (!s.startsWith("]", i) && !s.startsWith(":", i)) stop = parseConditional();
                        if (accept(":")) {
                            skip();
                            if (!s.startsWith("]", i)) step = parseConditional();
                        }
                        expect("]");
                        e = new Slice(e, start, stop, step);
                    } else {
                        expect("]");
                        e = new Index(e, start);
                    }
                } else if (accept("(")) {
                    Map<String, Expr> kwargs = new LinkedHashMap<>();
                    List<Expr> args = arguments(kwargs);
                    e = new Call(e, args, kwargs);
                } else if (accept("|")) {
                    String name = identifier();
                    Map<String, Expr> kwargs = new LinkedHashMap<>();
                    List<Expr> args = accept("(") ? arguments(kwargs) : new ArrayList<>();
                    e = new Filter(e, name, args, kwargs);
                } else {
                    return e;
                }
            }
        }

        /** Arguments after '(' up to and including ')'. */
        private List<Expr> arguments(Map<String, Expr> kwargs) {
            List<Expr> args = new ArrayList<>();
            skip();
            if (accept(")")) return args;
            do {
                skip();
                int save = i;
                String name = null;
                if (i < s.length() && Character.isJavaIdentifierStart(s.charAt(i))) {
                    String id = identifier();
                    skip();
                    if (s.startsWith("=", i) && !s.startsWith("==", i)) {
                        i++;
                        name = id;
                    } else {
                        i = save;
                    }
                }
                Expr value = parseConditional();
                if (name != null) kwargs.put(name, value);
                else args.add(value);
            } while (accept(","));
            expect(")");
            return args;
        }

        private Expr parsePrimary() {
            skip();
            if (i >= s.length()) throw error("unexpected end");
            char c = s.charAt(i);
            if (c == '\'' || c == '"') return new Literal(string());
            if (Character.isDigit(c)) return number();
            if (accept("(")) {
                Expr e = parseConditional();
                if (accept(",")) {
                    List<Expr> items = new ArrayList<>(List.of(e));
                    if (!accept(")")) {
                        do items.add(parseConditional());
                        while (accept(","));
                        expect(")");
                    }
                    return new ListExpr(items);
                }
                expect(")");
                return e;
            }
            if (accept("[")) {
                List<Expr> items = new ArrayList<>();
                if (!accept("]")) {
                    do {
                        skip();
                        if (s.startsWith("]", i)) break;
                        items.add(parseConditional());
                    } while (accept(","));
                    expect("]");
                }
                return new ListExpr(items);
            }
            if (accept("{")) {
                List<Expr> keys = new ArrayList<>();
                List<Expr> values = new ArrayList<>();
                if (!accept("}")) {
                    do {
                        skip();
                        if (s.startsWith("}", i)) break;
                        keys.add(parseConditional());
                        expect(":");
                        values.add(parseConditional());
                    } while (accept(","));
                    expect("}");
                }
                return new DictExpr(keys, values);
            }
            if (Character.isJavaIdentifierStart(c)) {
                String id = identifier();
                return switch (id) {
                    case "true", "True" -> new Literal(true);
                    case "false", "False" -> new Literal(false);
                    case "none", "None" -> new Literal(JinjaRuntime.NONE);
                    default -> new Name(id);
                };
            }
            throw error("unexpected '" + c + "'");
        }

        private String string() {
            char q = s.charAt(i++);
            StringBuilder sb = new StringBuilder();
            while (i < s.length() && s.charAt(i) != q) {
                char c = s.charAt(i++);
                if (c == '\\' && i < s.length()) {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n' -> sb.append('\n');
                        case 't' -> sb.append('\t');
                        case 'r' -> sb.append('\r');
                        case '\\' -> sb.append('\\');
                        case '\'' -> sb.append('\'');
                        case '"' -> sb.append('"');
                        case 'u' -> {
                            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                        }
                        default -> sb.append('\\').append(e);
                    }
                } else {
                    sb.append(c);
                }
            }
            if (i >= s.length()) throw error("unterminated string");
            i++;
            return sb.toString();
        }

        private Expr number() {
            int start = i;
            while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '_')) i++;
            if (i + 1 < s.length() && s.charAt(i) == '.' && Character.isDigit(s.charAt(i + 1))) {
                i++;
                while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
                return new Literal(Double.parseDouble(s.substring(start, i).replace("_", "")));
            }
            return new Literal(Long.parseLong(s.substring(start, i).replace("_", "")));
        }
    }
}
