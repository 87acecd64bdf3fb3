package dev.freehold.core.sample;

import dev.freehold.core.grammar.Grammar;
import dev.freehold.core.grammar.GrammarMatcher;
import dev.freehold.core.grammar.TokenTrie;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Set;

/**
 * Keeps a generation inside a grammar. Each step first samples as usual and keeps the token if the grammar allows
 * it (the common case, and cheap: one token is checked); only when it does not are the logits of every disallowed
 * token masked (a walk of the vocabulary trie) and the sampler asked again. For a distribution p over tokens and the
 * allowed set A this picks t in A with probability p(t) + (1 - p(A)) p(t) / p(A) = p(t) / p(A): exactly the
 * masked distribution. End-of-generation tokens are allowed only where the grammar may end. One per sequence.
 */
public final class GrammarConstraint {
    private final GrammarMatcher matcher;
    private final TokenTrie trie;
    private final byte[] trigger;      // lazy: the grammar applies once the output starts with this; null: from the start
    private boolean active;
    private boolean off;               // lazy, and the output did not start with the trigger: free from here on
    private final java.io.ByteArrayOutputStream waiting = new java.io.ByteArrayOutputStream();
    private final Set<Integer> endOfGeneration;
    private final BitSet allowed = new BitSet();
    private float[] scratch = new float[0];
    private int masks;
    private int steps;

    public GrammarConstraint(Grammar grammar, TokenTrie trie, Set<Integer> endOfGeneration) {
        this(grammar, trie, endOfGeneration, null);
    }

    /**
     * A lazy constraint (as llama.cpp's for tool calls in auto mode): the output is free unless it starts (after
     * whitespace) with {@code trigger}, in which case everything from the trigger on must follow the grammar, which
     * should itself start with the trigger. So a model that chooses to call a tool always writes a valid call.
     */
    public GrammarConstraint(Grammar grammar, TokenTrie trie, Set<Integer> endOfGeneration, String trigger) {
        this.matcher = new GrammarMatcher(grammar);
        this.trie = trie;
        this.endOfGeneration = endOfGeneration;
        this.trigger = trigger == null ? null : trigger.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        this.active = trigger == null;
    }

    /** Whether the grammar allows {@code token} next. */
    public boolean allows(int token) {
        if (!active) return true;
        if (endOfGeneration.contains(token)) return matcher.isComplete();
        byte[] piece = trie.piece(token);
        return piece.length > 0 && matcher.accepts(piece);
    }

    /**
     * The next token under the grammar; {@code logits} may be modified.
     *
     * @throws IllegalStateException when no token of the vocabulary can continue and the grammar cannot end here
     */
    public int sample(Sampler sampler, float[] logits) {
        if (!active) return sampler.sample(logits);
        steps++;
        if (scratch.length != logits.length) scratch = new float[logits.length];
        System.arraycopy(logits, 0, scratch, 0, logits.length);
        int t = sampler.sample(logits);
        if (allows(t)) return t;
        masks++;
        matcher.allowedTokens(trie, allowed);
        boolean any = !allowed.isEmpty();
        if (matcher.isComplete()) {
            for (int e : endOfGeneration) {
                if (e >= 0 && e < scratch.length) {
                    allowed.set(e);
                    any = true;
                }
            }
        }
        if (!any) throw new IllegalStateException("no token of the vocabulary can continue the grammar here; expected " + matcher.expected());
        for (int id = allowed.nextClearBit(0); id < scratch.length; id = allowed.nextClearBit(id + 1)) scratch[id] = Float.NEGATIVE_INFINITY;
        return sampler.sample(scratch);
    }

    /** Records the chosen token (end-of-generation tokens change nothing). */
    public void accept(int token) {
        if (endOfGeneration.contains(token)) return;
        if (active) {
            matcher.accept(trie.piece(token));
            return;
        }
        if (off) return;
        waiting.writeBytes(trie.piece(token));
        byte[] text = waiting.toByteArray();
        int start = 0;
        while (start < text.length && (text[start] == ' ' || text[start] == '\n' || text[start] == '\t' || text[start] == '\r')) start++;
        int n = text.length - start;
        if (n >= trigger.length) {
            if (!java.util.Arrays.equals(text, start, start + trigger.length, trigger, 0, trigger.length)) {
                off = true;
                return;
            }
            byte[] rest = java.util.Arrays.copyOfRange(text, start, text.length);
            if (matcher.accepts(rest)) {
                matcher.accept(rest);
                active = true;
            } else {
                off = true; // the text after the trigger already left the grammar: it stays text
            }
        } else if (!java.util.Arrays.equals(text, start, text.length, trigger, 0, n)) {
            off = true;
        }
    }

    /** Whether the grammar applies now (always, unless lazy and not triggered). */
    public boolean active() {
        return active;
    }

    /** The grammar is complete and allows nothing more: generation should end. */
    public boolean isFinished() {
        return active && matcher.isFinished();
    }

    public boolean isComplete() {
        return !active || matcher.isComplete();
    }

    /** Steps that needed a full mask, and all steps (for speed reports). */
    public int maskedSteps() {
        return masks;
    }

    public int steps() {
        return steps;
    }

    @Override
    public String toString() {
        return "GrammarConstraint[" + masks + "/" + steps + " masked, expected " + Arrays.toString(matcher.expected().toArray()) + "]";
    }
}
