package dev.freehold.core.format;

import java.nio.file.Path;

/**
 * A model or tokenizer file that cannot be read as what it claims to be: truncated, malformed, or asking for
 * something absurd. The message is one line naming the file, the field and the byte offset, so that a person
 * can tell what is wrong without a stack trace.
 */
public class ModelFormatException extends RuntimeException {
    private final Path file;
    private final String field;
    private final long offset;

    public ModelFormatException(Path file, String field, long offset, String problem) {
        super(format(file, field, offset, problem));
        this.file = file;
        this.field = field;
        this.offset = offset;
    }

    public ModelFormatException(Path file, String problem) {
        this(file, null, -1, problem);
    }

    private static String format(Path file, String field, long offset, String problem) {
        StringBuilder sb = new StringBuilder();
        sb.append(file == null ? "<input>" : file.toString()).append(": ");
        if (field != null) {
            sb.append(field);
            if (offset >= 0) {
                sb.append(" at offset ").append(offset);
            }
            sb.append(": ");
        }
        return sb.append(problem).toString();
    }

    /**
     * A name read from a file (a key, a tensor name), made safe for a one-line message: control characters
     * escaped, at most 80 characters.
     */
    public static String printable(String name) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < name.length() && sb.length() < 80; i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7f || Character.isISOControl(c)) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (sb.length() >= 80 && name.length() > 80) sb.append("...");
        return sb.toString();
    }

    public Path file() {
        return file;
    }

    /** The field that was wrong, or null when the problem is not about one field. */
    public String field() {
        return field;
    }

    /** The byte offset of the field, or -1 when unknown. */
    public long offset() {
        return offset;
    }
}
