package dev.freehold.core.grammar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a generation stands in a grammar, advanced byte by byte as tokens are accepted. The state is a set of
 * stacks, each a path through the rules whose top is the character class that must match next (an empty stack:
 * the grammar may end here), plus the bytes of a UTF-8 character not yet complete. Stacks are immutable linked
 * nodes that share their tails; a set of stacks is interned per matcher, so the transitions of a state on a code
 * point are computed once and reused (masking a vocabulary revisits the same states many times).
 */
public final class GrammarMatcher {
    private static final int MAX_STACKS = 4096;

    /** A stack node: element {@code idx} of alternative {@code alt} of rule {@code rule}, above {@code next}. */
    record Node(int rule, int alt, int idx, Node next, int hash) {
        static Node of(int rule, int alt, int idx, Node next) {
            int h = ((rule * 31 + alt) * 31 + idx) * 31 + (next == null ? 0 : next.hash);
            return new Node(rule, alt, idx, next, h);
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) return true;
            if (!(o instanceof Node n) || n.hash != hash || n.rule != rule || n.alt != alt || n.idx != idx) return false;
            return java.util.Objects.equals(next, n.next);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** An interned set of stacks, with its transitions on code points filled in as they are needed. */
    static final class State {
        final Node[] stacks; // null entry: an empty stack (the grammar can end)
        final boolean complete;
        final Map<Integer, State> next = new HashMap<>();
        final int hash;
        java.util.BitSet mask;  // the tokens allowed here, once computed (pending UTF-8 bytes: none)
        TokenTrie maskTrie;

        State(Node[] stacks) {
            this.stacks = stacks;
            boolean c = false;
            for (Node n : stacks) c |= n == null;
            this.complete = c;
            this.hash = Arrays.hashCode(stacks);
        }

        boolean dead() {
            return stacks.length == 0;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof State s && s.hash == hash && Arrays.equals(s.stacks, stacks);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private final Grammar g;
    private final Map<State, State> interned = new HashMap<>();
    private final State dead;
    private State state;
    private int pendingCp;     // bits of the UTF-8 character being received
    private int pendingNeed;   // continuation bytes still expected (0: none pending)
    private int pendingLen;    // bytes received of it

    public GrammarMatcher(Grammar g) {
        this.g = g;
        this.dead = intern(new LinkedHashSet<>());
        Set<Node> start = new LinkedHashSet<>();
        for (int a = 0; a < g.rules[g.root].length; a++) expand(Node.of(g.root, a, 0, null), start, 0);
        this.state = intern(start);
    }

    public Grammar grammar() {
        return g;
    }

    /** Whether the text so far is a complete sentence of the grammar (generation may stop here). */
    public boolean isComplete() {
        return state.complete && pendingNeed == 0;
    }

    /** Whether nothing more can follow: complete, and no stack expects another character. */
    public boolean isFinished() {
        return isComplete() && state.stacks.length == 1;
    }

    /** Whether {@code bytes} (a token's UTF-8 bytes) can come next. Does not change the state. */
    public boolean accepts(byte[] bytes) {
        return walk(bytes, false);
    }

    /** Advances over {@code bytes}; throws if they cannot come next. */
    public void accept(byte[] bytes) {
        if (!walk(bytes, true)) throw new IllegalStateException("the grammar does not allow this text here");
    }

    private boolean walk(byte[] bytes, boolean commit) {
        State s = state;
        int cp = pendingCp;
        int need = pendingNeed;
        int len = pendingLen;
        for (byte x : bytes) {
            int v = x & 0xFF;
            if (need == 0) {
                if (v < 0x80) {
                    s = step(s, v);
                } else if (v >= 0xC2 && v < 0xE0) {
                    cp = v & 0x1F;
                    need = 1;
                    len = 1;
                } else if (v >= 0xE0 && v < 0xF0) {
                    cp = v & 0x0F;
                    need = 2;
                    len = 1;
                } else if (v >= 0xF0 && v < 0xF5) {
                    cp = v & 0x07;
                    need = 3;
                    len = 1;
                } else {
                    return false; // not a UTF-8 lead byte
                }
            } else {
                if ((v & 0xC0) != 0x80) return false;
                cp = (cp << 6) | (v & 0x3F);
                len++;
                if (--need == 0) {
                    if (!validCodePoint(cp, len)) return false;
                    s = step(s, cp);
                }
            }
            if (s.dead()) return false;
        }
        if (need > 0 && !partialPossible(s, cp, need, len + need)) return false;
        if (commit) {
            state = s;
            pendingCp = cp;
            pendingNeed = need;
            pendingLen = len;
        }
        return true;
    }

    /** Overlong encodings (e.g. F0 80 81 BD for '}'), surrogates and code points beyond U+10FFFF are not UTF-8. */
    static boolean validCodePoint(int cp, int length) {
        int min = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
        return cp >= min && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    }

    /**
     * With {@code need} continuation bytes to come of a {@code length}-byte character, whether any top class matches
     * some valid completion of cp.
     */
    private boolean partialPossible(State s, int cp, int need, int length) {
        int lo = cp << (6 * need);
        int hi = lo | ((1 << (6 * need)) - 1);
        lo = Math.max(lo, length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000);
        hi = Math.min(hi, 0x10FFFF);
        if (lo > hi) return false;
        for (Node n : s.stacks) {
            if (n != null && g.classes[g.rules[n.rule][n.alt][n.idx]].matchesAnyIn(lo, hi)) return true;
        }
        return false;
    }

    /** The state after one code point, computed once per (state, code point). */
    State step(State s, int cp) {
        State cached = s.next.get(cp);
        if (cached != null) return cached;
        Set<Node> out = new LinkedHashSet<>();
        for (Node n : s.stacks) {
            if (n == null) continue;
            int[] alt = g.rules[n.rule][n.alt];
            if (!g.classes[alt[n.idx]].matches(cp)) continue;
            expand(n.idx + 1 < alt.length ? Node.of(n.rule, n.alt, n.idx + 1, n.next) : n.next, out, 0);
        }
        State r = intern(out);
        s.next.put(cp, r);
        return r;
    }

    /** Adds to {@code out} every stack reachable from {@code n} whose top is a character class. */
    private void expand(Node n, Set<Node> out, int depth) {
        if (depth > 10_000) throw new GrammarException("the grammar nests too deeply to match");
        if (out.size() > MAX_STACKS) throw new GrammarException("the grammar is too ambiguous: more than " + MAX_STACKS + " ways to continue at once");
        if (n == null) {
            out.add(null);
            return;
        }
        int[] alt = g.rules[n.rule][n.alt];
        if (n.idx >= alt.length) {
            expand(n.next, out, depth + 1);
            return;
        }
        int e = alt[n.idx];
        if (e >= 0) {
            out.add(n);
            return;
        }
        int r = -e - 1;
        Node cont = n.idx + 1 < alt.length ? Node.of(n.rule, n.alt, n.idx + 1, n.next) : n.next;
        for (int a = 0; a < g.rules[r].length; a++) {
            if (g.rules[r][a].length == 0) expand(cont, out, depth + 1);
            else expand(Node.of(r, a, 0, cont), out, depth + 1);
        }
    }

    private State intern(Set<Node> stacks) {
        State s = new State(stacks.toArray(new Node[0]));
        State known = interned.putIfAbsent(s, s);
        return known != null ? known : s;
    }

    /**
     * Marks in {@code allowed} every token of the trie that can come next. Tokens with no bytes (control tokens)
     * are never marked: whether generation may end is {@link #isComplete()}.
     */
    public void allowedTokens(TokenTrie trie, java.util.BitSet allowed) {
        allowed.clear();
        // A state recurs (inside a string every character leads back to the same one): remember its mask.
        boolean cacheable = pendingNeed == 0;
        if (cacheable && state.mask != null && state.maskTrie == trie) {
            allowed.or(state.mask);
            return;
        }
        visit(trie, 0, state, pendingCp, pendingNeed, pendingLen, allowed);
        if (cacheable && maskedStates < MAX_CACHED_MASKS) {
            state.mask = (java.util.BitSet) allowed.clone();
            state.maskTrie = trie;
            maskedStates++;
        }
    }

    private static final int MAX_CACHED_MASKS = 256;
    private int maskedStates;

    private void visit(TokenTrie trie, int node, State s, int cp, int need, int len, java.util.BitSet allowed) {
        int edges = trie.edgeCount(node);
        for (int k = 0; k < edges; k++) {
            int v = trie.edgeByte(node, k);
            int child = trie.edgeTarget(node, k);
            State s2 = s;
            int cp2 = cp;
            int need2 = need;
            int len2 = len;
            if (need2 == 0) {
                len2 = 1;
                if (v < 0x80) {
                    s2 = step(s, v);
                } else if (v >= 0xC2 && v < 0xE0) {
                    cp2 = v & 0x1F;
                    need2 = 1;
                } else if (v >= 0xE0 && v < 0xF0) {
                    cp2 = v & 0x0F;
                    need2 = 2;
                } else if (v >= 0xF0 && v < 0xF5) {
                    cp2 = v & 0x07;
                    need2 = 3;
                } else {
                    continue;
                }
            } else {
                if ((v & 0xC0) != 0x80) continue;
                cp2 = (cp << 6) | (v & 0x3F);
                len2++;
                if (--need2 == 0) {
                    if (!validCodePoint(cp2, len2)) continue;
                    s2 = step(s, cp2);
                }
            }
            if (s2.dead()) continue;
            if (need2 > 0 && !partialPossible(s2, cp2, need2, len2 + need2)) continue;
            for (int t : trie.tokensAt(child)) allowed.set(t);
            visit(trie, child, s2, cp2, need2, len2, allowed);
        }
    }

    /** For errors: the characters that could come next, summarised. */
    public List<String> expected() {
        List<String> out = new ArrayList<>();
        for (Node n : state.stacks) out.add(n == null ? "(end)" : g.classes[g.rules[n.rule][n.alt][n.idx]].toString());
        return out;
    }
}
