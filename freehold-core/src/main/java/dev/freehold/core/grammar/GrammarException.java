package dev.freehold.core.grammar;

/** A grammar that cannot be parsed or compiled, with the line and column (1-based) where the problem is, if known. */
public final class GrammarException extends IllegalArgumentException {
    private final int line;
    private final int column;

    public GrammarException(String message, int line, int column) {
        super(line > 0 ? "%s (line %d, column %d)".formatted(message, line, column) : message);
        this.line = line;
        this.column = column;
    }

    public GrammarException(String message) {
        this(message, 0, 0);
    }

    public int line() {
        return line;
    }

    public int column() {
        return column;
    }
}
