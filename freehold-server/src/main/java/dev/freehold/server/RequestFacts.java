package dev.freehold.server;

import io.javalin.http.Context;

/** What a request did, for the access log: the model and token counts, never prompt or answer text. */
public record RequestFacts(String model, int promptTokens, int completionTokens) {
    static final String ATTRIBUTE = "freehold.request-facts";

    public static void record(Context ctx, String model, int promptTokens, int completionTokens) {
        ctx.attribute(ATTRIBUTE, new RequestFacts(model, promptTokens, completionTokens));
    }
}
