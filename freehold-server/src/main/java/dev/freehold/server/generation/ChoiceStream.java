package dev.freehold.server.generation;

import java.util.List;

/** The events of a request's choices, merged in the order they arrive, until every choice has ended. */
public final class ChoiceStream {
    /** One event and the index of the choice it belongs to. */
    public record Item(int index, GenerationEvent event) {
    }

    private final List<Generation> choices;
    private final boolean[] ended;
    private int remaining;
    private int next;

    public ChoiceStream(List<Generation> choices) {
        this.choices = choices;
        this.ended = new boolean[choices.size()];
        this.remaining = choices.size();
    }

    /** The next event of any choice; null once all have ended. */
    public Item next() throws InterruptedException {
        if (remaining == 0) return null;
        if (choices.size() == 1) return record(0, choices.getFirst().take());
        while (true) {
            // One pass without waiting, fair over the choices, then a short wait on the next unfinished one.
            for (int k = 0; k < choices.size(); k++) {
                int i = (next + k) % choices.size();
                if (ended[i]) continue;
                GenerationEvent e = choices.get(i).poll(0);
                if (e != null) {
                    next = (i + 1) % choices.size();
                    return record(i, e);
                }
            }
            for (int k = 0; k < choices.size(); k++) {
                int i = (next + k) % choices.size();
                if (ended[i]) continue;
                GenerationEvent e = choices.get(i).poll(5);
                if (e != null) {
                    next = (i + 1) % choices.size();
                    return record(i, e);
                }
                break;
            }
        }
    }

    private Item record(int i, GenerationEvent e) {
        if (e instanceof GenerationEvent.Done || e instanceof GenerationEvent.Failed) {
            ended[i] = true;
            remaining--;
        }
        return new Item(i, e);
    }

    public void cancel() {
        choices.forEach(Generation::cancel);
    }
}
