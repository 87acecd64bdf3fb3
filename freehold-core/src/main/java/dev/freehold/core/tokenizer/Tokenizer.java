package dev.freehold.core.tokenizer;

import dev.freehold.core.model.TokenType;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Text to token ids and back, exactly as llama.cpp does it for the model's vocabulary: SentencePiece-style BPE
 * ({@code llama}), byte-level BPE with a pre-tokenizer ({@code gpt2}) or WordPiece ({@code bert}).
 *
 * <p>Encoding first cuts the text around special tokens (only user-defined ones unless {@code parseSpecial}),
 * longest first, then encodes each remaining fragment with the model's algorithm. Instances are immutable and
 * safe to share between threads.
 */
public final class Tokenizer {
    private final Vocabulary vocab;
    private final TokenizerAlgorithm algorithm;
    private final int[] specialTokensLongestFirst;
    private final boolean cleanSpaces;

    Tokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        this.algorithm = switch (vocab.kind) {
            case SPM -> new SpmAlgorithm(vocab);
            case BPE -> new BpeAlgorithm(vocab, PreTokenizer.forName(vocab.pre));
            case WPM -> new WordPieceAlgorithm(vocab);
        };
        List<Integer> special = new ArrayList<>();
        for (int id = 0; id < vocab.size(); id++) {
            if (vocab.isSpecial(id) && !vocab.tokens[id].isEmpty()) special.add(id);
        }
        special.sort(Comparator.comparingInt((Integer id) -> vocab.tokens[id].length()).reversed());
        this.specialTokensLongestFirst = special.stream().mapToInt(Integer::intValue).toArray();
        this.cleanSpaces = switch (vocab.kind) {
            case SPM -> false;
            case WPM -> true;
            case BPE -> vocab.pre == null || !java.util.Set.of("deepseek-llm", "deepseek-coder", "deepseek-v3", "command-r", "qwen2",
                    "deepseek-r1-qwen", "qwen35", "poro-chat", "viking", "tekken", "smollm").contains(vocab.pre);
        };
    }

    public Vocabulary vocabulary() {
        return vocab;
    }

    /**
     * Encodes text.
     *
     * @param addSpecial   add BOS/EOS (or CLS/SEP) as the vocabulary asks
     * @param parseSpecial recognise control tokens such as {@code <|eot_id|>} written in the text
     * @throws TokenizerException if the text holds an unpaired surrogate (not valid Unicode, so no valid UTF-8)
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        checkText(text);
        IntList out = new IntList(Math.max(16, text.length() / 3));
        List<Object> fragments = partition(text, parseSpecial);
        switch (vocab.kind) {
            case SPM -> {
                boolean prevSpecial = true;
                if (addSpecial && vocab.addBos) out.add(vocab.bos);
                for (Object f : fragments) {
                    if (f instanceof String s) {
                        String t = vocab.addSpacePrefix && prevSpecial ? " " + s : s;
                        algorithm.encode(t.replace(' ', '\u2581'), out);
                        prevSpecial = false;
                    } else {
                        out.add((Integer) f);
                        prevSpecial = true;
                    }
                }
                if (addSpecial && vocab.addEos) out.add(vocab.eos);
            }
            case BPE -> {
                if (addSpecial && vocab.addBos) out.add(vocab.bos);
                for (Object f : fragments) {
                    if (f instanceof String s) algorithm.encode(s, out);
                    else out.add((Integer) f);
                }
                if (addSpecial && vocab.addEos) out.add(vocab.eos);
            }
            case WPM -> {
                if (addSpecial) out.add(requireSpecial(vocab.bos, "CLS/BOS"));
                for (Object f : fragments) {
                    if (f instanceof String s) algorithm.encode(s, out);
                    else out.add((Integer) f);
                }
                if (addSpecial) out.add(requireSpecial(vocab.sep, "SEP"));
            }
        }
        return out.toArray();
    }

    private static int requireSpecial(int id, String what) {
        if (id == Vocabulary.NONE) throw new TokenizerException("the vocabulary has no " + what + " token");
        return id;
    }

    private static void checkText(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                } else {
                    throw new TokenizerException("text holds an unpaired surrogate at index " + i + " (not valid Unicode)");
                }
            }
        }
    }

    /**
     * Cuts text around special tokens, longest first, like llama.cpp's tokenizer_st_partition: returns Strings
     * (text) and Integers (token ids) in order. Control and unknown tokens count only when parseSpecial.
     */
    private List<Object> partition(String text, boolean parseSpecial) {
        List<Object> fragments = new ArrayList<>();
        if (text.isEmpty()) return fragments;
        fragments.add(text);
        for (int id : specialTokensLongestFirst) {
            TokenType type = vocab.types[id];
            if (!parseSpecial && (type == TokenType.CONTROL || type == TokenType.UNKNOWN)) continue;
            String special = vocab.tokens[id];
            for (int i = 0; i < fragments.size(); i++) {
                if (!(fragments.get(i) instanceof String s)) continue;
                int at = s.indexOf(special);
                if (at < 0) continue;
                List<Object> parts = new ArrayList<>();
                int from = 0;
                while (at >= 0) {
                    if (at > from) parts.add(s.substring(from, at));
                    parts.add(id);
                    from = at + special.length();
                    at = s.indexOf(special, from);
                }
                if (from < s.length()) parts.add(s.substring(from));
                fragments.remove(i);
                fragments.addAll(i, parts);
                i += parts.size() - 1;
            }
        }
        return fragments;
    }

    // ----------------------------------------------------------------------------------------- decoding

    /**
     * The bytes of one token, as llama.cpp's token_to_piece: control and unknown tokens are empty unless
     * {@code special}; byte tokens are their byte; spaces are restored.
     */
    public byte[] pieceBytes(int id, boolean special) {
        vocab.check(id);
        TokenType type = vocab.types[id];
        String text = vocab.tokens[id];
        if (type == TokenType.CONTROL || type == TokenType.UNKNOWN) {
            return special ? text.getBytes(StandardCharsets.UTF_8) : new byte[0];
        }
        if (type == TokenType.USER_DEFINED) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        if (type == TokenType.BYTE) {
            return new byte[] {(byte) byteOf(id)};
        }
        if (type != TokenType.NORMAL) {
            return new byte[0]; // unused/undefined tokens decode to nothing, as in llama.cpp
        }
        if (vocab.kind == Vocabulary.Kind.BPE) {
            byte[] b = new byte[text.length()];
            int n = 0;
            for (int i = 0; i < text.length(); i++) {
                int v = Unicode.charToByte(text.charAt(i));
                if (v < 0) {
                    // Not one of GPT-2's byte characters (a malformed vocabulary): pass the text through.
                    return text.getBytes(StandardCharsets.UTF_8);
                }
                b[n++] = (byte) v;
            }
            return Arrays.copyOf(b, n);
        }
        return text.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
    }

    private int byteOf(int id) {
        String t = vocab.tokens[id];
        if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
            return Integer.parseInt(t.substring(3, 5), 16);
        }
        int b = t.length() == 1 ? Unicode.charToByte(t.charAt(0)) : -1;
        if (b < 0) throw new TokenizerException("byte token " + id + " has the malformed piece '" + t + "'");
        return b;
    }

    /**
     * Decodes ids to bytes as llama.cpp's detokenize: the first piece loses one leading space when the vocabulary
     * adds a space prefix; {@code removeSpecial} drops a leading BOS and trailing EOS; {@code unparseSpecial}
     * writes control tokens as their text; byte-level vocabularies tidy spaces before punctuation.
     */
    public byte[] decodeBytes(int[] ids, boolean removeSpecial, boolean unparseSpecial) {
        int from = 0;
        int to = ids.length;
        boolean removeSpace = vocab.addSpacePrefix;
        if (removeSpecial && vocab.addBos && to > 0 && ids[0] == vocab.bos) {
            removeSpace = false;
            from++;
        }
        if (removeSpecial && vocab.addEos && to > from && ids[to - 1] == vocab.eos) to--;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = from; i < to; i++) {
            byte[] piece = pieceBytes(ids[i], unparseSpecial);
            int skip = removeSpace && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
            out.write(piece, skip, piece.length - skip);
            removeSpace = false;
        }
        byte[] text = out.toByteArray();
        return cleanSpaces ? cleanSpaces(text) : text;
    }

    /** Decodes ids to text (invalid UTF-8 from byte tokens becomes U+FFFD). */
    public String decode(int[] ids) {
        return new String(decodeBytes(ids, false, false), StandardCharsets.UTF_8);
    }

    /** llama.cpp's clean-up of byte-level BPE output: " ?" " !" " ." " ," lose the space, and some apostrophes. */
    static byte[] cleanSpaces(byte[] t) {
        int n = t.length;
        // pass 1: " ?", " !", " .", " ,"
        int total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) total--;
            t[total++] = x;
        }
        // pass 2: a single apostrophe between spaces, " ' " -> "'"
        n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++) {
            byte x = t[i];
            if (x == '\'' && i + 1 < n && t[i - 1] == ' ' && t[i + 1] == ' ') {
                total--;
                t[++i] = 0;
            }
            t[total++] = x;
        }
        // pass 3: " 's", " 'm", " 're", " 've" lose the space
        n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && x == '\'' && i + 1 < n) {
                byte x1 = t[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    total--;
                } else if (i + 2 < n && ((x1 == 'r' && t[i + 2] == 'e') || (x1 == 'v' && t[i + 2] == 'e'))) {
                    total--;
                }
            }
            t[total++] = x;
        }
        return Arrays.copyOf(t, total);
    }

    /** A decoder for streaming; see {@link IncrementalDecoder}. */
    public IncrementalDecoder newDecoder(boolean stripLeadingSpace) {
        return new IncrementalDecoder(this, stripLeadingSpace, cleanSpaces);
    }

    /** A growable int array: encoding appends many ids and should not box them. */
    static final class IntList {
        private int[] a;
        private int n;

        IntList(int capacity) {
            a = new int[capacity];
        }

        void add(int v) {
            if (n == a.length) a = Arrays.copyOf(a, a.length * 2);
            a[n++] = v;
        }

        void addAll(int[] v) {
            for (int x : v) add(x);
        }

        int size() {
            return n;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
