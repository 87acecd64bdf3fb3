package dev.freehold.core.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a template into text, {@code {{ output }}} and {@code {% statement %}} pieces, applying Hugging Face's
 * whitespace rules: {@code trim_blocks} (the newline right after a statement or comment is dropped),
 * {@code lstrip_blocks} (spaces and tabs before a statement or comment at the start of a line are dropped), and the
 * {@code -} markers that strip all whitespace on their side.
 */
final class JinjaLexer {
    enum Kind { TEXT, OUTPUT, STATEMENT }

    record Piece(Kind kind, String text, int line) {
    }

    private JinjaLexer() {
    }

    static List<Piece> lex(String src) {
        List<Piece> out = new ArrayList<>();
        int i = 0;
        int n = src.length();
        boolean trimNextLeading = false; // a "-%}" / "-}}" asked to strip what follows
        boolean dropNextNewline = false; // trim_blocks after a statement or comment
        while (i < n) {
            int open = nextOpen(src, i);
            String raw = src.substring(i, open < 0 ? n : open);
            // Is the tag at the start of a source line, with only spaces/tabs before it? (decided before trimming)
            int rawLineStart = raw.lastIndexOf('\n') + 1;
            boolean tagStartsLine = (rawLineStart > 0 || i == 0 || src.charAt(i - 1) == '\n')
                    && raw.substring(rawLineStart).chars().allMatch(c -> c == ' ' || c == '\t');
            String text = raw;
            if (dropNextNewline && text.startsWith("\n")) text = text.substring(1);
            if (trimNextLeading) text = stripLeading(text);
            if (open < 0) {
                add(out, Kind.TEXT, text, src, i);
                break;
            }
            char type = src.charAt(open + 1);
            boolean stripBefore = open + 2 < n && src.charAt(open + 2) == '-';
            String closeMark = type == '{' ? "}}" : type == '%' ? "%}" : "#}";
            int close = type == '#' ? src.indexOf(closeMark, open + 2) : findClose(src, open + 2, closeMark);
            if (close < 0) throw new TemplateException("line " + line(src, open) + ": '" + src.substring(open, open + 2) + "' is never closed");
            boolean stripAfter = src.charAt(close - 1) == '-' && close - 1 >= open + 2 + (stripBefore ? 1 : 0);
            boolean block = type != '{';
            if (stripBefore) {
                text = stripTrailing(text);
            } else if (block && tagStartsLine && !src.startsWith("+", open + 2)) {
                // lstrip_blocks: drop the spaces/tabs between the line start and the tag
                int lineStart = text.lastIndexOf('\n') + 1;
                if (text.substring(lineStart).chars().allMatch(c -> c == ' ' || c == '\t')) text = text.substring(0, lineStart);
            }
            add(out, Kind.TEXT, text, src, i);
            boolean plus = !stripBefore && src.startsWith("+", open + 2);
            String inner = src.substring(open + 2 + (stripBefore || plus ? 1 : 0), close - (stripAfter ? 1 : 0));
            if (type == '{') {
                out.add(new Piece(Kind.OUTPUT, inner.strip(), line(src, open)));
            } else if (type == '%') {
                out.add(new Piece(Kind.STATEMENT, inner.strip(), line(src, open)));
            }
            trimNextLeading = stripAfter;
            dropNextNewline = block && !stripAfter;
            i = close + 2;
        }
        return out;
    }

    /** The closing mark of a tag, skipping string literals and balanced braces (a dict literal may hold "}}"). */
    private static int findClose(String s, int from, String mark) {
        int depth = 0;
        char quote = 0;
        for (int k = from; k < s.length(); k++) {
            char c = s.charAt(k);
            if (quote != 0) {
                if (c == '\\') k++;
                else if (c == quote) quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (depth == 0 && s.startsWith(mark, k)) {
                return k;
            } else if (c == '{' || c == '[' || c == '(') {
                depth++;
            } else if (c == '}' || c == ']' || c == ')') {
                depth = Math.max(0, depth - 1);
            }
        }
        return -1;
    }

    private static void add(List<Piece> out, Kind kind, String text, String src, int at) {
        if (!text.isEmpty()) out.add(new Piece(kind, text, line(src, at)));
    }

    private static int nextOpen(String s, int from) {
        for (int i = s.indexOf('{', from); i >= 0 && i + 1 < s.length(); i = s.indexOf('{', i + 1)) {
            char c = s.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') return i;
        }
        return -1;
    }

    private static String stripLeading(String s) {
        int k = 0;
        while (k < s.length() && Character.isWhitespace(s.charAt(k))) k++;
        return s.substring(k);
    }

    private static String stripTrailing(String s) {
        int k = s.length();
        while (k > 0 && Character.isWhitespace(s.charAt(k - 1))) k--;
        return s.substring(0, k);
    }

    static int line(String s, int at) {
        int line = 1;
        for (int k = 0; k < at && k < s.length(); k++) if (s.charAt(k) == '\n') line++;
        return line;
    }
}
