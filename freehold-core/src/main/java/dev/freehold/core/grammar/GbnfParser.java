package dev.freehold.core.grammar;

import java.util.ArrayList;
import java.util.List;

/** Reads GBNF text into {@link Grammar.Builder}, reporting errors with line and column. */
final class GbnfParser {
    private static final int MAX_REPEAT = 10_000;

    private final String src;
    private int pos;
    private final Grammar.Builder b = new Grammar.Builder();
    private int depth;

    GbnfParser(String src) {
        this.src = src;
    }

    Grammar parse(String rootName) {
        skipSpace(true);
        if (pos >= src.length()) throw error("the grammar is empty");
        while (pos < src.length()) {
            parseRule();
            skipSpace(true);
        }
        return b.build(rootName);
    }

    private void parseRule() {
        int at = pos;
        String name = name();
        if (name.isEmpty()) throw error("expected a rule name");
        skipSpace(false);
        if (!src.startsWith("::=", pos)) throw error("expected '::=' after rule name '" + name + "'");
        pos += 3;
        if (b.defined.contains(name)) {
            pos = at;
            throw error("rule '" + name + "' is defined twice");
        }
        b.defined.add(name);
        int id = b.rule(name);
        skipSpace(true);
        b.rules.set(id, alternatives(name, false));
        // a rule ends at the end of its line
        skipSpace(false);
        if (pos < src.length() && src.charAt(pos) != '\n' && src.charAt(pos) != '\r') {
            throw error("unexpected '" + src.charAt(pos) + "'");
        }
    }

    /** Alternatives up to the end of the rule (or the closing parenthesis when nested). */
    private int[][] alternatives(String ruleName, boolean nested) {
        List<int[]> alts = new ArrayList<>();
        alts.add(sequence(ruleName, nested));
        while (true) {
            skipSpace(nested);
            if (pos < src.length() && src.charAt(pos) == '|') {
                pos++;
                skipSpace(true);
                alts.add(sequence(ruleName, nested));
            } else {
                break;
            }
        }
        return alts.toArray(new int[0][]);
    }

    private int[] sequence(String ruleName, boolean nested) {
        List<Integer> out = new ArrayList<>();
        int lastStart = -1; // index in out where the last element (which a repetition applies to) starts
        while (true) {
            skipSpace(nested);
            if (pos >= src.length()) break;
            char c = src.charAt(pos);
            int start = out.size();
            if (c == '"') {
                pos++;
                int n = 0;
                while (true) {
                    if (pos >= src.length()) throw error("unterminated string literal");
                    if (src.charAt(pos) == '"') {
                        pos++;
                        break;
                    }
                    int cp = character();
                    out.add(b.charClass(new int[] {cp, cp}, false));
                    n++;
                }
                lastStart = n == 0 ? -1 : start;
                if (n == 0) continue;
                // a repetition after a literal applies to the whole literal: group it
                if (n > 1 && pos < src.length() && "*+?{".indexOf(src.charAt(pos)) >= 0) {
                    int helper = b.helper(ruleName);
                    int[] seq = out.subList(start, out.size()).stream().mapToInt(Integer::intValue).toArray();
                    b.rules.set(helper, new int[][] {seq});
                    out.subList(start, out.size()).clear();
                    out.add(-helper - 1);
                }
            } else if (c == '[') {
                pos++;
                out.add(charClass());
                lastStart = start;
            } else if (c == '.') {
                pos++;
                out.add(b.charClass(new int[] {0x0A, 0x0A}, true)); // llama.cpp: any character but a newline
                lastStart = start;
            } else if (isNameChar(c)) {
                int line = line(pos);
                int col = column(pos);
                String ref = name();
                // "name ::=" starts the next rule: this sequence (and rule) ended at the line break before it
                int save = pos;
                skipSpace(false);
                if (src.startsWith("::=", pos)) {
                    pos = save;
                    throw error("expected '|' or the end of the rule before '" + ref + " ::='; put each rule on its own line");
                }
                pos = save;
                int id = b.rule(ref);
                b.firstUse.putIfAbsent(ref, new int[] {line, col});
                out.add(-id - 1);
                lastStart = start;
            } else if (c == '(') {
                pos++;
                if (++depth > 100) throw error("parentheses nested too deeply");
                skipSpace(true);
                int helper = b.helper(ruleName);
                int[][] alts = alternatives(ruleName, true);
                skipSpace(true);
                if (pos >= src.length() || src.charAt(pos) != ')') throw error("expected ')'");
                pos++;
                depth--;
                b.rules.set(helper, alts);
                out.add(-helper - 1);
                lastStart = start;
            } else if (c == '*' || c == '+' || c == '?' || c == '{') {
                if (lastStart < 0 || lastStart != out.size() - 1) throw error("'" + c + "' must follow an element");
                int element = out.remove(out.size() - 1);
                pos++;
                int min;
                int max; // -1: unbounded
                if (c == '*') {
                    min = 0;
                    max = -1;
                } else if (c == '+') {
                    min = 1;
                    max = -1;
                } else if (c == '?') {
                    min = 0;
                    max = 1;
                } else {
                    skipSpace(false);
                    min = number();
                    skipSpace(false);
                    max = min;
                    if (pos < src.length() && src.charAt(pos) == ',') {
                        pos++;
                        skipSpace(false);
                        max = pos < src.length() && Character.isDigit(src.charAt(pos)) ? number() : -1;
                        skipSpace(false);
                    }
                    if (pos >= src.length() || src.charAt(pos) != '}') throw error("expected '}'");
                    pos++;
                    if (max >= 0 && max < min) throw error("repetition {" + min + "," + max + "}: the maximum is below the minimum");
                }
                out.add(repeat(ruleName, element, min, max));
                lastStart = -1;
            } else {
                break; // '|', ')', a newline at top level, or something the caller reports
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A helper rule matching element {min, max} times (max -1: unbounded), as llama.cpp rewrites repetitions. */
    private int repeat(String ruleName, int element, int min, int max) {
        if (min > MAX_REPEAT || max > MAX_REPEAT) throw error("repetition counts above " + MAX_REPEAT + " are not supported");
        int helper = b.helper(ruleName);
        List<Integer> seq = new ArrayList<>();
        for (int i = 0; i < min; i++) seq.add(element);
        if (max < 0) {
            // star ::= element star | (empty)
            int star = b.helper(ruleName);
            b.rules.set(star, new int[][] {{element, -star - 1}, {}});
            seq.add(-star - 1);
        } else if (max > min) {
            // opt_k ::= element opt_{k-1} | (empty), nested so that "a{0,3}" cannot match in several ways
            int tail = -1;
            for (int i = 0; i < max - min; i++) {
                int opt = b.helper(ruleName);
                b.rules.set(opt, tail < 0 ? new int[][] {{element}, {}} : new int[][] {{element, -tail - 1}, {}});
                tail = opt;
            }
            seq.add(-tail - 1);
        }
        b.rules.set(helper, new int[][] {seq.stream().mapToInt(Integer::intValue).toArray()});
        return -helper - 1;
    }

    private int charClass() {
        boolean negated = false;
        if (pos < src.length() && src.charAt(pos) == '^') {
            negated = true;
            pos++;
        }
        List<Integer> ranges = new ArrayList<>();
        while (true) {
            if (pos >= src.length()) throw error("unterminated character class");
            if (src.charAt(pos) == ']') {
                pos++;
                break;
            }
            int lo = character();
            int hi = lo;
            if (pos + 1 < src.length() && src.charAt(pos) == '-' && src.charAt(pos + 1) != ']') {
                pos++;
                hi = character();
                if (hi < lo) throw error("range " + Integer.toHexString(lo) + "-" + Integer.toHexString(hi) + " is backwards");
            }
            ranges.add(lo);
            ranges.add(hi);
        }
        return b.charClass(ranges.stream().mapToInt(Integer::intValue).toArray(), negated);
    }

    /** One character of a literal or class, with escapes. */
    private int character() {
        int cp = src.codePointAt(pos);
        if (cp != '\\') {
            pos += Character.charCount(cp);
            return cp;
        }
        pos++;
        if (pos >= src.length()) throw error("a backslash at the end of the grammar");
        char e = src.charAt(pos++);
        return switch (e) {
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case '\\', '"', '[', ']', '-', '^', '\'' -> e;
            case 'x' -> hex(2);
            case 'u' -> hex(4);
            case 'U' -> hex(8);
            default -> {
                pos--;
                throw error("unknown escape '\\" + e + "'");
            }
        };
    }

    private int hex(int digits) {
        if (pos + digits > src.length()) throw error("expected " + digits + " hex digits");
        int v = 0;
        for (int i = 0; i < digits; i++) {
            int d = Character.digit(src.charAt(pos), 16);
            if (d < 0) throw error("expected a hex digit");
            v = v * 16 + d;
            pos++;
        }
        if (v > 0x10FFFF) throw error("code point beyond U+10FFFF");
        return v;
    }

    private int number() {
        int start = pos;
        while (pos < src.length() && Character.isDigit(src.charAt(pos))) pos++;
        if (start == pos) throw error("expected a number");
        if (pos - start > 6) throw error("repetition count too large");
        return Integer.parseInt(src.substring(start, pos));
    }

    private String name() {
        int start = pos;
        while (pos < src.length() && isNameChar(src.charAt(pos))) pos++;
        return src.substring(start, pos);
    }

    private static boolean isNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    }

    /** Spaces, tabs and comments; line breaks too when {@code newlines}. */
    private void skipSpace(boolean newlines) {
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (c == ' ' || c == '\t' || (newlines && (c == '\n' || c == '\r'))) {
                pos++;
            } else if (c == '#') {
                while (pos < src.length() && src.charAt(pos) != '\n') pos++;
            } else {
                break;
            }
        }
    }

    private int line(int at) {
        int line = 1;
        for (int i = 0; i < at && i < src.length(); i++) if (src.charAt(i) == '\n') line++;
        return line;
    }

    private int column(int at) {
        int col = 1;
        for (int i = Math.min(at, src.length()) - 1; i >= 0 && src.charAt(i) != '\n'; i--) col++;
        return col;
    }

    private GrammarException error(String message) {
        return new GrammarException(message, line(pos), column(pos));
    }
}
