package dev.freehold.core.grammar;

import dev.freehold.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The vocabulary's tokens as a trie of their UTF-8 bytes, so that masking walks each shared prefix once and drops
 * whole subtrees the grammar rejects. Built once per tokenizer; immutable and shareable between threads.
 */
public final class TokenTrie {
    // node -> edges (byte, child), sorted by byte; node -> tokens ending there
    private final int[][] edgeBytes;
    private final int[][] edgeTargets;
    private final int[][] tokens;
    private final byte[][] pieces;

    private TokenTrie(int[][] edgeBytes, int[][] edgeTargets, int[][] tokens, byte[][] pieces) {
        this.edgeBytes = edgeBytes;
        this.edgeTargets = edgeTargets;
        this.tokens = tokens;
        this.pieces = pieces;
    }

    /** Every token's text as the detokenizer writes it (special tokens have none and are left out). */
    public static TokenTrie of(Tokenizer tokenizer) {
        int n = tokenizer.vocabulary().size();
        byte[][] pieces = new byte[n][];
        for (int id = 0; id < n; id++) pieces[id] = tokenizer.pieceBytes(id, false);
        return of(pieces);
    }

    public static TokenTrie of(byte[][] pieces) {
        List<int[]> eb = new ArrayList<>();
        List<int[]> et = new ArrayList<>();
        List<int[]> tk = new ArrayList<>();
        eb.add(new int[0]);
        et.add(new int[0]);
        tk.add(new int[0]);
        for (int id = 0; id < pieces.length; id++) {
            byte[] p = pieces[id];
            if (p.length == 0) continue;
            int node = 0;
            for (byte x : p) {
                int v = x & 0xFF;
                int[] bs = eb.get(node);
                int k = Arrays.binarySearch(bs, v);
                if (k >= 0) {
                    node = et.get(node)[k];
                } else {
                    int ins = -k - 1;
                    int child = eb.size();
                    eb.add(new int[0]);
                    et.add(new int[0]);
                    tk.add(new int[0]);
                    eb.set(node, insert(bs, ins, v));
                    et.set(node, insert(et.get(node), ins, child));
                    node = child;
                }
            }
            int[] t = tk.get(node);
            int[] t2 = Arrays.copyOf(t, t.length + 1);
            t2[t.length] = id;
            tk.set(node, t2);
        }
        return new TokenTrie(eb.toArray(new int[0][]), et.toArray(new int[0][]), tk.toArray(new int[0][]), pieces);
    }

    private static int[] insert(int[] a, int at, int v) {
        int[] r = new int[a.length + 1];
        System.arraycopy(a, 0, r, 0, at);
        r[at] = v;
        System.arraycopy(a, at, r, at + 1, a.length - at);
        return r;
    }

    int edgeCount(int node) {
        return edgeBytes[node].length;
    }

    int edgeByte(int node, int k) {
        return edgeBytes[node][k];
    }

    int edgeTarget(int node, int k) {
        return edgeTargets[node][k];
    }

    int[] tokensAt(int node) {
        return tokens[node];
    }

    /** The token's bytes, as the trie holds them. */
    public byte[] piece(int token) {
        return pieces[token];
    }

    public int vocabularySize() {
        return pieces.length;
    }

    public int nodeCount() {
        return edgeBytes.length;
    }
}
