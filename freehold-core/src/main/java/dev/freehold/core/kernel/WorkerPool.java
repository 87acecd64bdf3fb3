package dev.freehold.core.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed set of worker threads that split loops over rows: the caller's thread takes one share, the workers
 * the rest. Sized once (default: the machine's cores); never grows.
 *
 * <p>A forward pass dispatches a few hundred loops per token, each lasting tens to hundreds of microseconds, so
 * the hand-off itself must cost little and allocate nothing. Work is published through fields and a volatile
 * generation counter; workers and the caller spin briefly (the next loop usually follows within microseconds)
 * and then park, so an idle pool uses no CPU. Every worker acknowledges every generation, including workers
 * that get no share, so no worker can still be reading one dispatch's fields when the next one writes them.
 *
 * <p>Each thread owns a contiguous range (so each streams its own part of a weight matrix) and takes it in chunks
 * from the front; a thread that runs out takes chunks from the back of the others' ranges. On a shared machine one
 * core is often slower than the other for a while, and with fixed halves the faster thread then waited: 10% of a
 * decode profile was spent in those waits. Work items must therefore not care which thread runs them, nor in how many
 * calls a range is split (true of every caller: items are rows or heads, each computed on its own).
 */
public final class WorkerPool implements AutoCloseable {
    /** A body over the half-open range [from, to); called any number of times per dispatch, on any thread. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    /** How long a waiting thread spins before it parks. */
    private static final long SPIN_NANOS = 50_000;

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock dispatchLock = new ReentrantLock();

    // The dispatch being worked on; written by the caller before it bumps the generation.
    private RangeTask task;
    private int shares;
    private volatile long generation;
    private volatile boolean closed;
    private volatile Throwable failure;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Thread waiter;
    /** Per share, the part of its range nobody has taken yet: the front in the low 32 bits, the end in the high 32. */
    private final AtomicLongArray remaining;
    private int grain;

    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.remaining = new AtomicLongArray(threads);
        for (int i = 0; i < workers.length; i++) {
            int share = i + 1;
            Thread t = new Thread(() -> workLoop(share), "freehold-worker-" + share);
            t.setDaemon(true);
            workers[i] = t;
        }
        for (Thread t : workers) t.start();
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs task over [0, n), each thread starting on a contiguous share of its own and taking over what is left of
     * the others' when done, and waits until all of [0, n) has run.
     */
    public void parallelFor(int n, RangeTask task) {
        int shares = Math.min(threads, Math.max(1, n));
        // Nested calls (from inside a task) and calls after close run on the calling thread alone.
        if (shares == 1 || closed || dispatchLock.isHeldByCurrentThread() || isWorkerThread()) {
            task.run(0, n);
            return;
        }
        dispatchLock.lock();
        try {
            this.task = task;
            this.shares = shares;
            this.failure = null;
            this.waiter = Thread.currentThread();
            // About 16 chunks per share: few enough that claiming costs nothing, enough to even out a slow core.
            this.grain = Math.max(1, n / (16 * shares));
            for (int s = 0; s < threads; s++) {
                int from = s < shares ? (int) ((long) n * s / shares) : n;
                int to = s < shares ? (int) ((long) n * (s + 1) / shares) : n;
                remaining.set(s, pack(from, to));
            }
            pending.set(workers.length);
            generation = generation + 1; // volatile write: publishes the fields above
            for (Thread w : workers) LockSupport.unpark(w);
            try {
                work(0, task);
            } finally {
                awaitWorkers();
                this.task = null;
            }
            Throwable t = failure;
            if (t != null) {
                failure = null;
                if (t instanceof RuntimeException re) throw re;
                if (t instanceof Error err) throw err;
                throw new IllegalStateException(t);
            }
        } finally {
            dispatchLock.unlock();
        }
    }

    private void awaitWorkers() {
        long start = System.nanoTime();
        int spins = 0;
        while (pending.get() != 0) {
            if (closed) return;
            if ((++spins & 63) != 0 || System.nanoTime() - start < SPIN_NANOS) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, 1_000_000);
            }
        }
    }

    private void workLoop(int share) {
        long seen = 0;
        while (true) {
            long start = System.nanoTime();
            int spins = 0;
            long current;
            while ((current = generation) == seen) {
                if (closed) return;
                if ((++spins & 63) != 0 || System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) return;
            seen = current;
            RangeTask body = task;
            if (share < shares) {
                try {
                    work(share, body);
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                }
            }
            if (pending.decrementAndGet() == 0) LockSupport.unpark(waiter);
        }
    }

    /** Share {@code own}'s range from the front, then the other shares' leftovers from their backs. */
    private void work(int own, RangeTask body) {
        int chunk = grain;
        while (true) {
            long r = remaining.get(own);
            int front = (int) r;
            int end = (int) (r >>> 32);
            if (front >= end) break;
            int to = end - front <= chunk ? end : front + chunk;
            if (remaining.compareAndSet(own, r, pack(to, end))) body.run(front, to);
        }
        int n = shares;
        for (int k = 1; k < n; k++) {
            int victim = (own + k) % n;
            while (failure == null) {
                long r = remaining.get(victim);
                int front = (int) r;
                int end = (int) (r >>> 32);
                if (front >= end) break;
                int from = end - front <= chunk ? front : end - chunk;
                if (remaining.compareAndSet(victim, r, pack(front, from))) body.run(from, end);
            }
        }
    }

    private static long pack(int front, int end) {
        return (long) end << 32 | (front & 0xFFFFFFFFL);
    }

    private boolean isWorkerThread() {
        Thread current = Thread.currentThread();
        for (Thread w : workers) if (w == current) return true;
        return false;
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
