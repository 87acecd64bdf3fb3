package dev.freehold.core.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class WorkerPoolTest {

    @Test
    @Timeout(60)
    void everyIndexIsVisitedExactlyOnceForEverySizeIncludingFewerRowsThanThreads() {
        try (WorkerPool pool = new WorkerPool(4)) {
            for (int n = 0; n <= 67; n++) {
                AtomicIntegerArray visits = new AtomicIntegerArray(Math.max(n, 1));
                int size = n;
                pool.parallelFor(n, (from, to) -> {
                    assertThat(from).isBetween(0, size);
                    assertThat(to).isBetween(from, size);
                    for (int i = from; i < to; i++) visits.incrementAndGet(i);
                });
                for (int i = 0; i < n; i++) assertThat(visits.get(i)).as("n=%d index %d", n, i).isEqualTo(1);
            }
        }
    }

    @Test
    @Timeout(120)
    void manyBackToBackDispatchesSeeTheirOwnTaskOnly() {
        // Alternating sizes exercise the race where a worker that had no share in one dispatch must not
        // pick up the fields of the next one early.
        try (WorkerPool pool = new WorkerPool(3)) {
            AtomicLong total = new AtomicLong();
            long expected = 0;
            for (int round = 0; round < 30_000; round++) {
                int n = (round % 3) + 1;
                expected += n;
                pool.parallelFor(n, (from, to) -> total.addAndGet(to - from));
            }
            assertThat(total.get()).isEqualTo(expected);
        }
    }

    @Test
    @Timeout(60)
    void aFailingShareIsRethrownToTheCallerAndThePoolStaysUsable() {
        try (WorkerPool pool = new WorkerPool(2)) {
            assertThatThrownBy(() -> pool.parallelFor(10, (from, to) -> {
                        if (from > 0) throw new IllegalArgumentException("share starting at " + from);
                    }))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("share starting at ");
            AtomicLong sum = new AtomicLong();
            pool.parallelFor(100, (from, to) -> {
                for (int i = from; i < to; i++) sum.addAndGet(i);
            });
            assertThat(sum.get()).isEqualTo(4950);
        }
    }

    @Test
    @Timeout(60)
    void nestedCallsAndCallsAfterCloseRunOnTheCallingThread() {
        WorkerPool pool = new WorkerPool(2);
        AtomicLong inner = new AtomicLong();
        AtomicLong outerCalls = new AtomicLong();
        pool.parallelFor(4, (from, to) -> {
            outerCalls.incrementAndGet();
            pool.parallelFor(3, (a, b) -> inner.addAndGet(b - a));
        });
        assertThat(inner.get()).isEqualTo(3 * outerCalls.get()); // every outer call ran the whole inner loop
        pool.close();
        AtomicLong after = new AtomicLong();
        Thread caller = Thread.currentThread();
        pool.parallelFor(8, (from, to) -> {
            assertThat(Thread.currentThread()).isSameAs(caller);
            after.addAndGet(to - from);
        });
        assertThat(after.get()).isEqualTo(8);
    }

    @Test
    @Timeout(60)
    void aThreadThatFinishesEarlyTakesOverTheRestOfTheOthersShare() {
        try (WorkerPool pool = new WorkerPool(2)) {
            Thread caller = Thread.currentThread();
            AtomicIntegerArray ranByCaller = new AtomicIntegerArray(64);
            AtomicIntegerArray visits = new AtomicIntegerArray(64);
            pool.parallelFor(64, (from, to) -> {
                for (int i = from; i < to; i++) {
                    visits.incrementAndGet(i);
                    if (Thread.currentThread() == caller) {
                        ranByCaller.set(i, 1);
                    } else {
                        // the worker is slow: each of its items takes 20 ms
                        try {
                            Thread.sleep(20);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }
            });
            int callerInWorkersHalf = 0;
            for (int i = 0; i < 64; i++) {
                assertThat(visits.get(i)).as("index %d", i).isEqualTo(1);
                if (i >= 32) callerInWorkersHalf += ranByCaller.get(i);
            }
            assertThat(callerInWorkersHalf).as("items of the worker's half run by the caller").isGreaterThan(16);
        }
    }
}
