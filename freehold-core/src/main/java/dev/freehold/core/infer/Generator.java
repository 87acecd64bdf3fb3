package dev.freehold.core.infer;

import dev.freehold.core.sample.Sampler;
import dev.freehold.core.sample.SamplingParams;
import dev.freehold.core.tokenizer.IncrementalDecoder;
import java.util.Arrays;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Text generation on one sequence: run the prompt, then sample token after token until an end-of-generation token
 * or the token limit. When the context fills, the older half (after BOS) is dropped and generation goes on, as
 * llama.cpp's context shift does. Text is streamed as whole UTF-8 characters.
 */
public final class Generator {
    private Generator() {
    }

    public enum FinishReason { STOP, LENGTH, CONTEXT }

    /** What came out, with timings (prompt processing and generation separately, as llama.cpp reports them). */
    public record Result(int[] tokens, String text, int promptTokens, FinishReason finishReason, long promptNanos, long generationNanos) {
        public double promptTokensPerSecond() {
            return promptNanos == 0 ? 0 : promptTokens * 1e9 / promptNanos;
        }

        public double generationTokensPerSecond() {
            return generationNanos == 0 ? 0 : tokens.length * 1e9 / generationNanos;
        }
    }

    /**
     * @param prompt    prompt ids (including BOS if wanted); empty means BOS alone, as llama2.c starts
     * @param maxTokens how many tokens to generate at most
     * @param onText    receives text as it becomes final
     */
    public static Result generate(Engine engine, int[] prompt, int maxTokens, int contextSize, SamplingParams params, Consumer<String> onText) {
        return generate(engine, prompt, maxTokens, contextSize, params, null, onText);
    }

    /** As above, with the output kept inside a grammar ({@code constraint} may be null). */
    public static Result generate(Engine engine, int[] prompt, int maxTokens, int contextSize, SamplingParams params,
                                  dev.freehold.core.sample.GrammarConstraint constraint, Consumer<String> onText) {
        int[] ids = prompt.length == 0 ? new int[] {engine.tokenizer().vocabulary().bos()} : prompt;
        if (ids[0] < 0) throw new IllegalArgumentException("the model has no BOS token to start from; give a prompt");
        int capacity = Math.min(contextSize, engine.config().contextLength());
        if (ids.length >= capacity) {
            throw new IllegalArgumentException("the prompt has %d tokens, the context holds %d: shorten it or raise the context size"
                    .formatted(ids.length, capacity));
        }
        Sampler sampler = new Sampler(params);
        for (int t : ids) sampler.accept(t);
        return continueSequence(engine, engine.newSequence(capacity), ids, maxTokens, sampler, constraint, onText, () -> false);
    }

    /**
     * Appends {@code newTokens} to a sequence that may already hold earlier turns (their cache is reused), then
     * generates. {@code cancelled} is checked before each token (Ctrl-C in chat); the result's finish reason is then STOP.
     */
    public static Result continueSequence(Engine engine, Sequence seq, int[] newTokens, int maxTokens, Sampler sampler,
                                          Consumer<String> onText, java.util.function.BooleanSupplier cancelled) {
        return continueSequence(engine, seq, newTokens, maxTokens, sampler, null, onText, cancelled);
    }

    /** As above, with the output kept inside a grammar ({@code constraint} may be null). */
    public static Result continueSequence(Engine engine, Sequence seq, int[] newTokens, int maxTokens, Sampler sampler,
                                          dev.freehold.core.sample.GrammarConstraint constraint,
                                          Consumer<String> onText, java.util.function.BooleanSupplier cancelled) {
        if (maxTokens < 0) throw new IllegalArgumentException("the number of tokens to generate must not be negative");
        int[] ids = newTokens;
        if (ids.length == 0) throw new IllegalArgumentException("no tokens to continue from");
        if (seq.length() + ids.length >= seq.capacity()) {
            throw new IllegalArgumentException("the conversation needs %d tokens, the context holds %d".formatted(seq.length() + ids.length, seq.capacity()));
        }
        Set<Integer> eog = engine.tokenizer().vocabulary().endOfGeneration();
        // As llama2.c: text that starts right after BOS loses its leading space.
        boolean afterBos = ids[ids.length - 1] == engine.tokenizer().vocabulary().bos();
        IncrementalDecoder decoder = engine.tokenizer().newDecoder(afterBos);
        StringBuilder text = new StringBuilder();
        // maxTokens is the caller's number and, with context shift, no longer bounded by the context: grow as tokens come.
        int[] out = new int[Math.min(maxTokens, seq.capacity())];
        int n = 0;
        long t0 = System.nanoTime();
        float[] logits = engine.forwardPrompt(seq, ids);
        long t1 = System.nanoTime();
        FinishReason reason = FinishReason.LENGTH;
        while (n < maxTokens) {
            if (cancelled.getAsBoolean()) {
                reason = FinishReason.STOP;
                break;
            }
            int token = constraint == null ? sampler.sample(logits) : constraint.sample(sampler, logits);
            if (eog.contains(token)) {
                reason = FinishReason.STOP;
                break;
            }
            if (constraint != null) constraint.accept(token);
            if (n == out.length) out = Arrays.copyOf(out, (int) Math.min(maxTokens, 2L * out.length));
            out[n++] = token;
            sampler.accept(token);
            String piece = decoder.add(token);
            if (!piece.isEmpty()) {
                text.append(piece);
                onText.accept(piece);
            }
            if (n == maxTokens) break;
            if (constraint != null && constraint.isFinished()) {
                reason = FinishReason.STOP;
                break;
            }
            if (seq.length() >= seq.capacity()) {
                // Context full: keep BOS if the sequence starts with it, drop the older half of the rest, and go
                // on (llama.cpp's context shift with n_keep = 0, which keeps BOS when the model adds one).
                int keep = seq.length() > 0 && seq.tokens()[0] == engine.tokenizer().vocabulary().bos() ? 1 : 0;
                int discard = (seq.length() - keep) / 2;
                if (discard < 1) {
                    reason = FinishReason.CONTEXT;
                    break;
                }
                engine.shift(seq, keep, discard);
            }
            logits = engine.forward(seq, token);
        }
        String rest = decoder.flush();
        if (!rest.isEmpty()) {
            text.append(rest);
            onText.accept(rest);
        }
        long t2 = System.nanoTime();
        return new Result(Arrays.copyOf(out, n), text.toString(), ids.length, reason, t1 - t0, t2 - t1);
    }
}
