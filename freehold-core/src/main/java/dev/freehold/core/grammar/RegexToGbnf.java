package dev.freehold.core.grammar;

/**
 * A JSON Schema {@code pattern} (anchored with ^ and $, as llama.cpp requires) as a GBNF expression: literals,
 * escapes ({@code \d \w \s} and escaped punctuation), classes with ranges and negation, {@code .}, groups (also
 * {@code (?:...)}), alternation and the quantifiers {@code * + ? {m} {m,} {m,n}}. Anything else (look-arounds,
 * back-references, anchors inside) is refused by name.
 */
final class RegexToGbnf {
    private final String re;
    private int pos;

    RegexToGbnf(String re) {
        this.re = re;
    }

    String convert() {
        if (!re.startsWith("^") || !re.endsWith("$") || re.length() < 2) {
            throw new GrammarException("pattern '" + re + "' must start with ^ and end with $");
        }
        pos = 1;
        String body = alternation(re.length() - 1);
        if (pos != re.length() - 1) throw error("unexpected ')'");
        return body.isEmpty() ? "\"\"" : body;
    }

    private String alternation(int end) {
        StringBuilder sb = new StringBuilder(sequence(end));
        while (pos < end && re.charAt(pos) == '|') {
            pos++;
            sb.append(" | ").append(orEmpty(sequence(end)));
        }
        String s = sb.toString();
        return s.contains(" | ") ? "( " + (s.startsWith(" | ") ? "\"\"" + s : s) + " )" : s;
    }

    private static String orEmpty(String s) {
        return s.isEmpty() ? "\"\"" : s;
    }

    private String sequence(int end) {
        StringBuilder sb = new StringBuilder();
        while (pos < end && re.charAt(pos) != '|' && re.charAt(pos) != ')') {
            String atom = atom(end);
            atom = quantifier(atom, end);
            if (!sb.isEmpty()) sb.append(' ');
            sb.append(atom);
        }
        return sb.toString();
    }

    private String atom(int end) {
        char c = re.charAt(pos);
        switch (c) {
            case '(' -> {
                pos++;
                if (re.startsWith("?:", pos)) {
                    pos += 2;
                } else if (re.startsWith("?", pos)) {
                    throw error("look-arounds and other (?...) groups are not supported");
                }
                String inner = alternation(end);
                if (pos >= end || re.charAt(pos) != ')') throw error("missing ')'");
                pos++;
                return "( " + orEmpty(inner) + " )";
            }
            case '[' -> {
                return charClass(end);
            }
            case '.' -> {
                pos++;
                return "[^\\n]";
            }
            case '\\' -> {
                return escape(false);
            }
            case '^', '$' -> throw error("anchors are only supported at the start and end");
            case '*', '+', '?', '{' -> throw error("'" + c + "' has nothing to repeat");
            default -> {
                int cp = re.codePointAt(pos);
                pos += Character.charCount(cp);
                return literal(cp);
            }
        }
    }

    private String quantifier(String atom, int end) {
        if (pos >= end) return atom;
        char c = re.charAt(pos);
        String q;
        if (c == '*' || c == '+' || c == '?') {
            pos++;
            q = String.valueOf(c);
        } else if (c == '{') {
            int close = re.indexOf('}', pos);
            if (close < 0 || close > end) throw error("unterminated {m,n}");
            String spec = re.substring(pos + 1, close);
            if (!spec.matches("\\d{1,5}(,\\d{0,5})?")) throw error("bad repetition {" + spec + "}");
            pos = close + 1;
            q = "{" + spec + "}";
        } else {
            return atom;
        }
        if (pos < end && re.charAt(pos) == '?') pos++; // lazy quantifiers match the same strings
        return (atom.contains(" ") && !atom.startsWith("( ") ? "( " + atom + " )" : atom) + q;
    }

    private String charClass(int end) {
        pos++;
        StringBuilder sb = new StringBuilder("[");
        if (pos < end && re.charAt(pos) == '^') {
            sb.append('^');
            pos++;
        }
        boolean first = true;
        while (true) {
            if (pos >= end) throw error("unterminated character class");
            char c = re.charAt(pos);
            if (c == ']' && !first) {
                pos++;
                break;
            }
            first = false;
            if (c == '\\') {
                String e = escape(true);
                sb.append(e);
            } else {
                int cp = re.codePointAt(pos);
                pos += Character.charCount(cp);
                if (cp == '-') sb.append("\\-");
                else sb.append(classChar(cp));
                if (pos + 1 < end && re.charAt(pos) == '-' && re.charAt(pos + 1) != ']') {
                    pos++;
                    int hi = re.codePointAt(pos);
                    if (hi == '\\') throw error("escaped range ends are not supported");
                    pos += Character.charCount(hi);
                    sb.append('-').append(classChar(hi));
                }
            }
        }
        return sb.append(']').toString();
    }

    /** An escape at pos; inside a class, the class body (no brackets) of \d \w \s or the escaped character. */
    private String escape(boolean inClass) {
        pos++;
        if (pos >= re.length()) throw error("a backslash at the end");
        char e = re.charAt(pos++);
        String classBody = switch (e) {
            case 'd' -> "0-9";
            case 'w' -> "a-zA-Z0-9_";
            case 's' -> " \\t\\n\\r\\x0B\\x0C";
            default -> null;
        };
        if (classBody != null) return inClass ? classBody : "[" + classBody + "]";
        if ("DWS".indexOf(e) >= 0) throw error("negated class escapes (\\" + e + ") are not supported");
        if ("bBAzZG".indexOf(e) >= 0) throw error("assertions (\\" + e + ") are not supported");
        if (Character.isDigit(e)) throw error("back-references are not supported");
        int cp = switch (e) {
            case 'n' -> '\n';
            case 't' -> '\t';
            case 'r' -> '\r';
            case 'f' -> '\f';
            default -> e;
        };
        return inClass ? classChar(cp) : literal(cp);
    }

    private static String literal(int cp) {
        return "\"" + escapeForLiteral(cp) + "\"";
    }

    private static String escapeForLiteral(int cp) {
        return switch (cp) {
            case '"' -> "\\\"";
            case '\\' -> "\\\\";
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            default -> cp < 0x20 ? "\\x%02X".formatted(cp) : new String(Character.toChars(cp));
        };
    }

    private static String classChar(int cp) {
        return switch (cp) {
            case ']' -> "\\]";
            case '[' -> "\\[";
            case '\\' -> "\\\\";
            case '^' -> "\\^";
            case '-' -> "\\-";
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            default -> cp < 0x20 ? "\\x%02X".formatted(cp) : new String(Character.toChars(cp));
        };
    }

    private GrammarException error(String message) {
        return new GrammarException("pattern '" + re + "': " + message + " (at character " + (pos + 1) + ")");
    }
}
