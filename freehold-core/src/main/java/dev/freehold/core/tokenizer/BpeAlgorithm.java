package dev.freehold.core.tokenizer;

import dev.freehold.core.format.gguf.GgufValue;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE as llama.cpp runs it: pre-tokenize into words, map each word's bytes to GPT-2 characters, then
 * repeatedly merge the adjacent pair with the lowest merge rank (leftmost on ties). With {@code ignore_merges}
 * (Llama 3) a word that is itself a vocabulary piece is one token. Pieces that are not in the vocabulary fall
 * back to one token per byte. Results per word are cached (bounded), since text repeats its words.
 */
final class BpeAlgorithm implements TokenizerAlgorithm {
    private static final int CACHE_LIMIT = 100_000;

    private final Vocabulary vocab;
    private final PreTokenizer pre;
    private final boolean ignoreMerges;
    private final Map<String, Integer> ranks;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    BpeAlgorithm(Vocabulary vocab, PreTokenizer pre) {
        this.vocab = vocab;
        this.pre = pre;
        this.ignoreMerges = vocab.pre != null && java.util.Set.of("llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral", "tekken")
                .contains(vocab.pre);
        this.ranks = new HashMap<>();
        for (int i = 0; i < vocab.merges.length; i++) {
            String m = vocab.merges[i];
            int space = m.indexOf(' ', 1);
            if (space < 0) throw new TokenizerException("merge #%d '%s' is not two pieces separated by a space".formatted(i, m));
            for (String part : new String[] {m.substring(0, space), m.substring(space + 1)}) {
                if (vocab.id(part) == Vocabulary.NONE) {
                    throw new TokenizerException("merge #%d '%s' names '%s', which is not in the vocabulary".formatted(
                            i, dev.freehold.core.format.ModelFormatException.printable(m), dev.freehold.core.format.ModelFormatException.printable(part)));
                }
            }
            ranks.putIfAbsent(m, i);
        }
    }

    /** Reads {@code tokenizer.ggml.merges}. */
    static String[] merges(Map<String, GgufValue> md) {
        GgufValue v = md.get("tokenizer.ggml.merges");
        if (v == null) throw new TokenizerException("a byte-level BPE vocabulary needs tokenizer.ggml.merges");
        return v.asStringArray();
    }

    private record Bigram(int left, int right, int rank, String text) {
    }

    @Override
    public void encode(String fragment, Tokenizer.IntList out) {
        int[] cps = fragment.codePoints().toArray();
        for (String word : pre.split(cps)) {
            String encoded = PreTokenizer.byteEncode(word);
            int[] ids = cache.get(encoded);
            if (ids == null) {
                ids = encodeWord(encoded);
                if (cache.size() >= CACHE_LIMIT) cache.clear();
                cache.put(encoded, ids);
            }
            out.addAll(ids);
        }
    }

    int[] encodeWord(String word) {
        if (ignoreMerges) {
            int id = vocab.id(word);
            if (id != Vocabulary.NONE) return new int[] {id};
        }
        // After byte encoding every character is one UTF-16 unit.
        int n = word.length();
        int[] start = new int[n];
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            start[i] = i;
            len[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.rank != b.rank ? Integer.compare(a.rank, b.rank)
                : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) add(word, start, len, i - 1, i, queue);
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            if (len[bg.left] == 0 || len[bg.right] == 0) continue;
            if (len[bg.left] + len[bg.right] != bg.text.length()
                    || !word.regionMatches(start[bg.left], bg.text, 0, bg.text.length())) continue;
            len[bg.left] += len[bg.right];
            len[bg.right] = 0;
            next[bg.left] = next[bg.right];
            if (next[bg.right] >= 0) prev[next[bg.right]] = bg.left;
            add(word, start, len, prev[bg.left], bg.left, queue);
            add(word, start, len, bg.left, next[bg.left], queue);
        }
        Tokenizer.IntList out = new Tokenizer.IntList(8);
        for (int i = 0; i != -1; i = next[i]) {
            String piece = word.substring(start[i], start[i] + len[i]);
            int id = vocab.id(piece);
            if (id != Vocabulary.NONE) {
                out.add(id);
            } else {
                for (int k = 0; k < piece.length(); k++) {
                    int b = vocab.id(String.valueOf(piece.charAt(k)));
                    if (b != Vocabulary.NONE) out.add(b);
                }
            }
        }
        return out.toArray();
    }

    private void add(String word, int[] start, int[] len, int left, int right, PriorityQueue<Bigram> queue) {
        if (left == -1 || right == -1) return;
        String l = word.substring(start[left], start[left] + len[left]);
        String r = word.substring(start[right], start[right] + len[right]);
        Integer rank = ranks.get(l + " " + r);
        if (rank == null) return;
        queue.add(new Bigram(left, right, rank, l + r));
    }
}
