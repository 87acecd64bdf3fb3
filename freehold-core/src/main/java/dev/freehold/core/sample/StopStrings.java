package dev.freehold.core.sample;

import java.util.List;

/**
 * Stop strings checked on generated text, across token boundaries: text that could still turn out to be the start of
 * a stop string is held back, and a stop string found is never emitted (nor anything after it). One per sequence.
 */
public final class StopStrings {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    public StopStrings(List<String> stops) {
        for (String s : stops) {
            if (s == null || s.isEmpty()) throw new IllegalArgumentException("a stop string must not be empty");
        }
        this.stops = List.copyOf(stops);
    }

    /** What {@link #add} returns: text that is now final, and whether a stop string was reached. */
    public record Step(String text, boolean stopped) {
    }

    /** Adds generated text; returns the part that can be emitted. After a stop, further text is ignored. */
    public Step add(String piece) {
        if (stopped) return new Step("", true);
        pending.append(piece);
        int first = -1;
        for (String s : stops) {
            int at = pending.indexOf(s);
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        if (first >= 0) {
            stopped = true;
            String out = pending.substring(0, first);
            pending.setLength(0);
            return new Step(out, true);
        }
        int hold = heldBack();
        String out = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return new Step(out, false);
    }

    /** The text held back at the end of generation (it did not become a stop string). */
    public String flush() {
        String out = stopped ? "" : pending.toString();
        pending.setLength(0);
        return out;
    }

    public boolean stopped() {
        return stopped;
    }

    /** The length of the longest suffix of the pending text that is a proper prefix of some stop string. */
    private int heldBack() {
        int best = 0;
        String text = pending.toString();
        for (String s : stops) {
            int max = Math.min(s.length() - 1, text.length());
            for (int k = max; k > best; k--) {
                if (text.regionMatches(text.length() - k, s, 0, k)) {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }
}
