package dev.freehold.core.tokenizer;

/** A tokenizer that cannot be built from its data, or input it cannot take (e.g. invalid UTF-8, unknown ids). */
public class TokenizerException extends IllegalArgumentException {
    public TokenizerException(String message) {
        super(message);
    }
}
