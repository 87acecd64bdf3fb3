package dev.freehold.core.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

/**
 * WordPiece for BERT-family models as llama.cpp runs it on GGUF vocabularies (word-initial pieces carry a
 * {@code ▁} prefix, continuation pieces none): lower-case, strip accents (NFD, drop combining marks), split on
 * whitespace, punctuation, ASCII symbols and CJK ideographs, then take the longest vocabulary piece at each
 * position; a word that cannot be covered becomes {@code [UNK]}. As in BERT's own tokenizer (and Hugging Face's
 * {@code max_input_chars_per_word}), a word of more than 100 characters is {@code [UNK]} whole; llama.cpp pieces it.
 */
final class WordPieceAlgorithm implements TokenizerAlgorithm {
    /** BERT's limit: longer words are unknown rather than pieced. */
    static final int MAX_WORD_CHARS = 100;

    private final Vocabulary vocab;

    WordPieceAlgorithm(Vocabulary vocab) {
        this.vocab = vocab;
    }

    @Override
    public void encode(String text, Tokenizer.IntList out) {
        for (String word : preprocess(text)) {
            if (word.isEmpty()) continue;
            if (word.codePointCount(0, word.length()) > MAX_WORD_CHARS) {
                out.add(vocab.unk);
                continue;
            }
            String w = "\u2581" + word;
            int mark = out.size();
            List<Integer> ids = new ArrayList<>();
            int i = 0;
            boolean ok = true;
            while (i < w.length()) {
                int matched = -1;
                int matchEnd = -1;
                for (int j = Math.min(w.length(), i + vocab.maxTokenLength); j > i; j--) {
                    if (j < w.length() && Character.isLowSurrogate(w.charAt(j))) continue; // whole code points only
                    int id = vocab.id(w.substring(i, j));
                    if (id != Vocabulary.NONE) {
                        matched = id;
                        matchEnd = j;
                        break;
                    }
                }
                if (matched < 0) {
                    ok = false;
                    break;
                }
                ids.add(matched);
                i = matchEnd;
            }
            if (ok && !ids.isEmpty()) {
                for (int id : ids) out.add(id);
            } else if (out.size() == mark) {
                out.add(vocab.unk);
            }
        }
    }

    static List<String> preprocess(String text) {
        String nfd = Normalizer.normalize(text, Normalizer.Form.NFD);
        List<String> words = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int off = 0; off < nfd.length(); ) {
            int cp = nfd.codePointAt(off);
            off += Character.charCount(cp);
            int cat = Unicode.category(cp);
            if (Unicode.isWhitespace(cp)) {
                if (!cur.isEmpty()) {
                    words.add(cur.toString());
                    cur.setLength(0);
                }
                continue;
            }
            if (cp == 0 || cp == 0xFFFD || cat == Unicode.CONTROL || cat == Unicode.ACCENT_MARK) continue;
            int lower = Character.toLowerCase(cp);
            if (cat == Unicode.PUNCTUATION || (cp < 0x7F && cat == Unicode.SYMBOL) || isChinese(cp)) {
                if (!cur.isEmpty()) {
                    words.add(cur.toString());
                    cur.setLength(0);
                }
                words.add(new String(Character.toChars(lower)));
            } else {
                cur.appendCodePoint(lower);
            }
        }
        if (!cur.isEmpty()) words.add(cur.toString());
        return words;
    }

    static boolean isChinese(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
