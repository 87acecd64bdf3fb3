package dev.freehold.core.util;

/** Receives progress of long work (conversion, quantisation, loading). Implementations must be cheap. */
public interface ProgressListener {
    ProgressListener NONE = new ProgressListener() {
        @Override
        public void start(String task, long total, String unit) {
        }

        @Override
        public void advanceTo(long done) {
        }

        @Override
        public void finish() {
        }
    };

    /** Begins a task of {@code total} units (e.g. bytes). */
    void start(String task, long total, String unit);

    /** Reports that {@code done} of the total units are complete. */
    void advanceTo(long done);

    void finish();
}
