package dev.freehold.server.generation;

import dev.freehold.core.sample.Logprobs;

/** What a running generation reports, in order: tokens, then one {@link Done} or {@link Failed}. */
public sealed interface GenerationEvent {

    /**
     * One generated token: the text that became final with it (possibly empty: a partial UTF-8 character or a
     * possible stop string is held back) and, if asked for, its log-probabilities.
     */
    record Token(int id, String text, Logprobs.Step logprobs) implements GenerationEvent {
    }

    /** The end: why, and counts and timings (nanoseconds) for usage reports. */
    record Done(FinishReason reason, String tail, int promptTokens, int cachedPromptTokens, int completionTokens,
                long queuedNanos, long promptNanos, long generationNanos) implements GenerationEvent {
    }

    /** The generation could not go on (an engine error); what was streamed so far stands. */
    record Failed(String message) implements GenerationEvent {
    }

    enum FinishReason {
        /** an end-of-generation token or a stop string */
        STOP,
        /** the token limit or the end of the context */
        LENGTH,
        /** the client went away */
        CANCELLED
    }
}
