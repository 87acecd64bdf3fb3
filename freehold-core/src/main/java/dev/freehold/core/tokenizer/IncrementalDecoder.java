package dev.freehold.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of token ids into text as they arrive, for streaming generation. It never emits half a UTF-8
 * character (a character split over byte tokens waits for its last byte), and what it emits, concatenated,
 * equals {@link Tokenizer#decodeBytes} of all the ids: byte-level vocabularies' space tidying looks at a few
 * following characters, so with those the last three bytes are held back until more text or {@link #flush}.
 * Not thread-safe: one per sequence.
 */
public final class IncrementalDecoder {
    private final Tokenizer tokenizer;
    private final boolean cleanSpaces;
    private final ByteArrayOutputStream raw = new ByteArrayOutputStream();
    private boolean stripSpace;
    private int emitted;

    IncrementalDecoder(Tokenizer tokenizer, boolean stripLeadingSpace, boolean cleanSpaces) {
        this.tokenizer = tokenizer;
        this.stripSpace = stripLeadingSpace && tokenizer.vocabulary().addSpacePrefix;
        this.cleanSpaces = cleanSpaces;
    }

    /** Adds one token; returns the text that is now final (possibly empty). */
    public String add(int id) {
        byte[] piece = tokenizer.pieceBytes(id, false);
        int skip = stripSpace && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
        stripSpace = false; // as in detokenize: only the very first token, even an empty one (BOS)
        raw.write(piece, skip, piece.length - skip);
        return take(false);
    }

    /** Everything not yet emitted; an incomplete UTF-8 sequence at the end becomes U+FFFD. */
    public String flush() {
        return take(true);
    }

    private String take(boolean all) {
        byte[] text = raw.toByteArray();
        if (cleanSpaces) text = Tokenizer.cleanSpaces(text);
        int end = text.length;
        if (!all) {
            if (cleanSpaces) end = Math.max(emitted, end - 3);
            end = completeUtf8(text, emitted, end);
        }
        if (end <= emitted) return "";
        String s = new String(text, emitted, end - emitted, StandardCharsets.UTF_8);
        emitted = end;
        return s;
    }

    /** The largest end <= limit such that text[from, end) holds only whole UTF-8 sequences. */
    static int completeUtf8(byte[] text, int from, int limit) {
        int i = limit;
        // Walk back over at most 3 continuation bytes to the lead byte of the last sequence.
        int back = 0;
        while (i > from && back < 4 && (text[i - 1] & 0xC0) == 0x80) {
            i--;
            back++;
        }
        if (i == from) return back == 0 ? limit : from;
        int lead = text[i - 1] & 0xFF;
        int need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return need == back + 1 ? limit : i - 1;
    }
}
