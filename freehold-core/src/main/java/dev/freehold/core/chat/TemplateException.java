package dev.freehold.core.chat;

/** A chat template that cannot be parsed or rendered; the message names the construct and where it is. */
public class TemplateException extends IllegalArgumentException {
    public TemplateException(String message) {
        super(message);
    }
}
