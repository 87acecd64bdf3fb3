package dev.freehold.core.model;

/** llama.cpp's token types, as stored in {@code tokenizer.ggml.token_type}. */
public enum TokenType {
    UNDEFINED(0), NORMAL(1), UNKNOWN(2), CONTROL(3), USER_DEFINED(4), UNUSED(5), BYTE(6);

    private final int id;

    TokenType(int id) {
        this.id = id;
    }

    public int id() {
        return id;
    }

    public static TokenType byId(int id) {
        for (TokenType t : values()) {
            if (t.id == id) return t;
        }
        return UNDEFINED;
    }
}
