package dev.freehold.core.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StopStringsTest {

    /** Feeds pieces; returns everything emitted (including the final flush). */
    private static String run(List<String> stops, String... pieces) {
        StopStrings s = new StopStrings(stops);
        StringBuilder out = new StringBuilder();
        for (String p : pieces) {
            StopStrings.Step step = s.add(p);
            out.append(step.text());
            if (step.stopped()) return out.toString();
        }
        return out + s.flush();
    }

    @Test
    void stopStringInsideOnePieceCutsThere() {
        assertThat(run(List.of("END"), "hello END world")).isEqualTo("hello ");
    }

    @Test
    void stopStringAcrossPiecesIsFoundAndNeverEmitted() {
        StopStrings s = new StopStrings(List.of("</answer>"));
        assertThat(s.add("The answer is 4</").text()).isEqualTo("The answer is 4");
        assertThat(s.add("ans").text()).isEmpty();
        StopStrings.Step last = s.add("wer> and more");
        assertThat(last.stopped()).isTrue();
        assertThat(last.text()).isEmpty();
        assertThat(s.add("later").text()).isEmpty();
        assertThat(s.flush()).isEmpty();
    }

    @Test
    void heldBackTextThatDoesNotBecomeAStopIsReleased() {
        StopStrings s = new StopStrings(List.of("\n\nUser:"));
        assertThat(s.add("a\n\nUs").text()).isEqualTo("a");
        assertThat(s.add("ually").text()).isEqualTo("\n\nUsually");
        assertThat(s.flush()).isEmpty();
        assertThat(run(List.of("xyz"), "ab", "cx", "y")).isEqualTo("abcxy");
    }

    @Test
    void theEarliestOfSeveralStopsWins() {
        assertThat(run(List.of("bb", "a b"), "xa bb")).isEqualTo("x");
        assertThat(run(List.of("\n", "."), "one. two\n")).isEqualTo("one");
    }

    @Test
    void emptyStopStringsAreRefused() {
        assertThatThrownBy(() -> new StopStrings(List.of(""))).isInstanceOf(IllegalArgumentException.class);
    }

    /** Property: however text is split into pieces, the output is the text up to the first stop occurrence. */
    @Test
    void outputDoesNotDependOnHowTextIsSplit() {
        SplittableRandom r = new SplittableRandom(7);
        String alphabet = "ab\n";
        for (int trial = 0; trial < 2000; trial++) {
            StringBuilder text = new StringBuilder();
            int len = r.nextInt(30);
            for (int i = 0; i < len; i++) text.append(alphabet.charAt(r.nextInt(alphabet.length())));
            List<String> stops = List.of("aab", "\nb\n", "bb");
            int first = -1;
            for (String st : stops) {
                int at = text.indexOf(st);
                if (at >= 0 && (first < 0 || at < first)) first = at;
            }
            String expected = first < 0 ? text.toString() : text.substring(0, first);
            // random split
            java.util.List<String> pieces = new java.util.ArrayList<>();
            int i = 0;
            while (i < text.length()) {
                int n = 1 + r.nextInt(4);
                pieces.add(text.substring(i, Math.min(text.length(), i + n)));
                i += n;
            }
            assertThat(run(stops, pieces.toArray(String[]::new))).as("text %s", text).isEqualTo(expected);
        }
    }
}
