package dev.freehold.core.embed;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Varied English sentences for embedding tests, made from hand-written parts (no external data needed). */
final class EmbeddingSentences {
    private EmbeddingSentences() {
    }

    private static final String[] SUBJECTS = {"The nurse", "A small bank in Zurich", "Our public library", "The hospital's new MRI scanner",
            "My grandmother", "The city council", "A Java developer", "The quarterly report", "This recipe", "The night train to Vienna",
            "An old lighthouse", "The compiler", "Every student", "The weather service", "A stray cat"};
    private static final String[] VERBS = {"explained", "delayed", "rejected", "approved", "forgot", "repaired", "measured", "described",
            "painted", "translated", "ignored", "celebrated", "audited", "compressed", "predicted"};
    private static final String[] OBJECTS = {"the patient's medication schedule", "a mortgage application", "the opening hours",
            "three broken windows", "the budget for 2027", "an unexpected null pointer", "the recipe for apple pie", "heavy rain on Tuesday",
            "the results of the blood test", "a 40% increase in fraud", "the museum's new wing", "the garbage collector's pauses",
            "sixteen kilometres of coastline", "her favourite song", "the privacy policy"};
    private static final String[] TAILS = {".", " yesterday.", " without telling anyone!", " — again.", "?", " in great detail.",
            ", which surprised everyone.", " (see appendix B).", " at 9:30 a.m.", "; nobody noticed."};
    private static final String[] SPECIAL = {"", "Hello world", "HELLO WORLD", "hello   world", " leading and trailing spaces ",
            "naïve café résumé", "Straße und Größe", "東京は日本の首都です。", "Привет, как дела?", "emoji 🦙 and 🚀 rockets",
            "don't can't won't it's", "e-mail: someone@example.com, url: https://example.org/a?b=c", "3.14159 is pi; 2+2=4",
            "tabs\tand\nnewlines", "ALL-MiniLM-L6-v2 is a sentence-transformers model.",
            "The quick brown fox jumps over the lazy dog.", "unbelievably antidisestablishmentarianism",
            "a".repeat(300), "word ".repeat(200).trim()};

    /** {@code n} sentences: the special cases, then random combinations (fixed seed). */
    static List<String> sentences(int n) {
        List<String> out = new ArrayList<>(List.of(SPECIAL));
        SplittableRandom r = new SplittableRandom(2026);
        while (out.size() < n) {
            String s = SUBJECTS[r.nextInt(SUBJECTS.length)] + " " + VERBS[r.nextInt(VERBS.length)] + " " + OBJECTS[r.nextInt(OBJECTS.length)]
                    + TAILS[r.nextInt(TAILS.length)];
            if (r.nextInt(4) == 0) s = s + " " + SUBJECTS[r.nextInt(SUBJECTS.length)].toLowerCase() + " agreed.";
            out.add(s);
        }
        return out;
    }
}
