package dev.freehold.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece BPE as llama.cpp runs it: start from single characters, repeatedly merge the adjacent pair whose
 * concatenation is the vocabulary piece with the highest score (leftmost on ties), and emit each final symbol's
 * id, or its UTF-8 bytes as {@code <0xXX>} byte tokens when it is not a piece.
 *
 * <p>Every merge produces a vocabulary piece, so two neighbouring characters that appear next to each other in no
 * piece can never end up in the same symbol. The text is cut at such places into chunks that are encoded
 * independently, with the same result as encoding it whole, and chunk results are cached (bounded).
 */
final class SpmAlgorithm implements TokenizerAlgorithm {
    private static final int CACHE_LIMIT = 100_000;
    private static final int MAX_CACHED_CHUNK = 64;

    private final Vocabulary vocab;
    private final int[] byteTokens = new int[256];
    /** Pairs of code points (high << 32 | low) that occur next to each other inside some piece. */
    private final java.util.Set<Long> joinablePairs = new java.util.HashSet<>();
    private final java.util.Map<String, int[]> cache = new java.util.concurrent.ConcurrentHashMap<>();

    SpmAlgorithm(Vocabulary vocab) {
        this.vocab = vocab;
        for (String piece : vocab.tokens) {
            int prev = -1;
            for (int off = 0; off < piece.length(); ) {
                int cp = piece.codePointAt(off);
                off += Character.charCount(cp);
                if (prev >= 0) joinablePairs.add(((long) prev << 32) | cp);
                prev = cp;
            }
        }
        for (int b = 0; b < 256; b++) {
            int id = vocab.id("<0x%02X>".formatted(b));
            if (id == Vocabulary.NONE) id = vocab.id(new String(new char[] {(char) b}));
            byteTokens[b] = id == Vocabulary.NONE ? vocab.unk : id;
        }
    }

    private record Bigram(int left, int right, float score, int size) {
    }

    @Override
    public void encode(String text, Tokenizer.IntList out) {
        int chunkStart = 0;
        int prev = -1;
        for (int off = 0; off < text.length(); ) {
            int cp = text.codePointAt(off);
            if (prev >= 0 && !joinablePairs.contains(((long) prev << 32) | cp)) {
                encodeChunk(text.substring(chunkStart, off), out);
                chunkStart = off;
            }
            prev = cp;
            off += Character.charCount(cp);
        }
        if (chunkStart < text.length()) encodeChunk(text.substring(chunkStart), out);
    }

    private void encodeChunk(String chunk, Tokenizer.IntList out) {
        if (chunk.length() > MAX_CACHED_CHUNK) {
            encodeWhole(chunk, out);
            return;
        }
        int[] ids = cache.get(chunk);
        if (ids == null) {
            Tokenizer.IntList tmp = new Tokenizer.IntList(8);
            encodeWhole(chunk, tmp);
            ids = tmp.toArray();
            if (cache.size() >= CACHE_LIMIT) cache.clear();
            cache.put(chunk, ids);
        }
        out.addAll(ids);
    }

    /** The merge algorithm proper, on one chunk. */
    void encodeWhole(String text, Tokenizer.IntList out) {
        if (text.isEmpty()) return;
        // Symbols are code points, as offsets into the text with prev/next links.
        int n = text.codePointCount(0, text.length());
        int[] start = new int[n];
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, off = 0; i < n; i++) {
            start[i] = off;
            len[i] = Character.charCount(text.codePointAt(off));
            off += len[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score != b.score ? Float.compare(b.score, a.score)
                : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) tryAdd(text, start, len, i - 1, i, queue);
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            if (len[bg.left] == 0 || len[bg.right] == 0 || len[bg.left] + len[bg.right] != bg.size) continue;
            len[bg.left] += len[bg.right];
            len[bg.right] = 0;
            next[bg.left] = next[bg.right];
            if (next[bg.right] >= 0) prev[next[bg.right]] = bg.left;
            tryAdd(text, start, len, prev[bg.left], bg.left, queue);
            tryAdd(text, start, len, bg.left, next[bg.left], queue);
        }
        for (int i = 0; i != -1; i = next[i]) {
            String piece = text.substring(start[i], start[i] + len[i]);
            int id = vocab.id(piece);
            if (id != Vocabulary.NONE) {
                out.add(id);
            } else {
                for (byte b : piece.getBytes(StandardCharsets.UTF_8)) out.add(byteTokens[b & 0xFF]);
            }
        }
    }

    private void tryAdd(String text, int[] start, int[] len, int left, int right, PriorityQueue<Bigram> queue) {
        if (left == -1 || right == -1) return;
        int size = len[left] + len[right];
        int id = vocab.id(text.substring(start[left], start[left] + size));
        if (id == Vocabulary.NONE) return;
        queue.add(new Bigram(left, right, vocab.scores[id], size));
    }
}
