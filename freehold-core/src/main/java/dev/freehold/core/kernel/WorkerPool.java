package dev.freehold.core.kernel;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A fixed set of worker threads that split loops over rows: the caller's thread takes one share, the workers
 * the rest. Sized once (default: the machine's cores); never grows.
 */
public final class WorkerPool implements AutoCloseable {
    /** A body over the half-open range [from, to). */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    private final int threads;
    private final ExecutorService executor;

    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        this.threads = threads;
        this.executor = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "freehold-worker");
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    /** Runs task over [0, n) split into contiguous shares, one per thread, and waits for all of them. */
    public void parallelFor(int n, RangeTask task) {
        int shares = Math.min(threads, Math.max(1, n));
        if (shares == 1) {
            task.run(0, n);
            return;
        }
        CountDownLatch done = new CountDownLatch(shares - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int s = 1; s < shares; s++) {
            int from = (int) ((long) n * s / shares);
            int to = (int) ((long) n * (s + 1) / shares);
            executor.execute(() -> {
                try {
                    task.run(from, to);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        task.run(0, n / shares);
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for workers", e);
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error err) throw err;
        if (t != null) throw new IllegalStateException(t);
    }

    @Override
    public void close() {
        if (executor != null) executor.shutdownNow();
    }
}
