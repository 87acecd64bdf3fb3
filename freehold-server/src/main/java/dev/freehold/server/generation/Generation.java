package dev.freehold.server.generation;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A handle on one sequence being generated: the events it produces, read by the request's thread at its own pace
 * (the scheduler never waits on a client), and a way to cancel it.
 */
public final class Generation {
    private final BlockingQueue<GenerationEvent> events = new LinkedBlockingQueue<>();
    private final int promptTokens;
    private volatile boolean cancelled;

    Generation(int promptTokens) {
        this.promptTokens = promptTokens;
    }

    public int promptTokens() {
        return promptTokens;
    }

    /** The next event, waiting at most {@code timeoutMillis}; null when none came in time. */
    public GenerationEvent poll(long timeoutMillis) throws InterruptedException {
        return events.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** The next event, waiting as long as it takes (generation always ends with Done or Failed). */
    public GenerationEvent take() throws InterruptedException {
        return events.take();
    }

    /** Stops the generation at the scheduler's next step; it then reports Done with reason CANCELLED. */
    public void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    void emit(GenerationEvent e) {
        events.add(e);
    }
}
