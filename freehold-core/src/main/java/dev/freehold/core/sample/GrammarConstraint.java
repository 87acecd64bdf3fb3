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
    private final Set<Integer> endOfGeneration;
    private final BitSet allowed = new BitSet();
    private float[] scratch = new float[0];
    private int masks;
    private int steps;

    public GrammarConstraint(Grammar grammar, TokenTrie trie, Set<Integer> endOfGeneration) {
        this.matcher = new GrammarMatcher(grammar);
        this.trie = trie;
        this.endOfGeneration = endOfGeneration;
    }

    /** Whether the grammar allows {@code token} next. */
    public boolean allows(int token) {
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
        matcher.accept(trie.piece(token));
    }

    /** The grammar is complete and allows nothing more: generation should end. */
    public boolean isFinished() {
        return matcher.isFinished();
    }

    public boolean isComplete() {
        return matcher.isComplete();
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
