package dev.freehold.server.generation;

import dev.freehold.core.infer.Engine;
import dev.freehold.core.infer.Sequence;
import dev.freehold.core.sample.Logprobs;
import dev.freehold.core.sample.Sampler;
import dev.freehold.core.sample.SamplingParams;
import dev.freehold.core.sample.StopStrings;
import dev.freehold.core.tokenizer.IncrementalDecoder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching for one model: a single thread owns the engine and, step after step, runs every active
 * sequence in one batched forward pass. Requests join between steps; prompts go in chunks of at most
 * {@code promptBatch} tokens per step in all, so a long prompt does not stall the streams already running. Each
 * sequence's tokens come out exactly as they would alone (the engine's batch is bit-identical per sequence).
 *
 * <p>Sequences (their KV caches) are kept in slots and reused: a new request takes the free slot whose cached tokens
 * share the longest prefix with its prompt, so a conversation's next turn only runs its new tokens.
 */
public final class Scheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

    /**
     * @param parallel     sequences generated at once
     * @param maxQueue     requests that may wait for a free sequence; beyond it, {@link Rejected}
     * @param contextSize  positions per sequence (prompt and output)
     * @param promptBatch  prompt tokens run per step, over all sequences
     */
    public record Options(int parallel, int maxQueue, int contextSize, int promptBatch) {
        public Options {
            if (parallel < 1) throw new IllegalArgumentException("parallel must be at least 1");
            if (maxQueue < 0) throw new IllegalArgumentException("the queue length must not be negative");
            if (contextSize < 2) throw new IllegalArgumentException("the context must hold at least 2 positions");
            if (promptBatch < 1) throw new IllegalArgumentException("the prompt batch must be at least 1");
        }
    }

    /** Observations for metrics; called on the scheduler's thread, so they must be quick. */
    public interface Listener {
        default void queueChanged(int waiting, int active) {
        }

        default void firstToken(long nanosSinceSubmit) {
        }

        default void finished(GenerationEvent.FinishReason reason, int promptTokens, int completionTokens, long generationNanos) {
        }
    }

    /** Thrown by {@link #submit} when every sequence is busy and the queue is full. */
    public static final class Rejected extends Exception {
        Rejected(String message) {
            super(message);
        }
    }

    private final Engine engine;
    private final Options options;
    private final Listener listener;
    private final Set<Integer> endOfGeneration;
    private final int bos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Job> waiting = new ArrayDeque<>();
    private final ArrayDeque<Runnable> engineTasks = new ArrayDeque<>(); // other work on the engine, between steps
    private final List<Job> active = new ArrayList<>();
    private final List<Sequence> freeSlots = new ArrayList<>();
    private volatile boolean closed;
    private final Thread thread;

    public Scheduler(Engine engine, Options options, Listener listener, String name) {
        if (options.contextSize() > engine.config().contextLength()) {
            throw new IllegalArgumentException("the context size %d exceeds the model's %d"
                    .formatted(options.contextSize(), engine.config().contextLength()));
        }
        this.engine = engine;
        this.options = options;
        this.listener = listener;
        this.endOfGeneration = engine.tokenizer().vocabulary().endOfGeneration();
        this.bos = engine.tokenizer().vocabulary().bos();
        // Every sequence's KV cache is allocated now, so that too little memory shows at start, not at the Nth request.
        try {
            for (int i = 0; i < options.parallel(); i++) freeSlots.add(engine.newSequence(options.contextSize()));
        } catch (OutOfMemoryError e) {
            freeSlots.clear();
            throw new IllegalStateException("not enough memory for %d sequences of %d positions; lower --parallel or --ctx-size (or raise -Xmx)"
                    .formatted(options.parallel(), options.contextSize()));
        }
        this.thread = Thread.ofPlatform().name("freehold-scheduler-" + name).daemon().start(this::run);
    }

    private volatile dev.freehold.core.grammar.TokenTrie trie;

    /** The vocabulary as a trie for grammar masks, built on first use. */
    private dev.freehold.core.grammar.TokenTrie trie() {
        var t = trie;
        if (t == null) {
            synchronized (this) {
                if (trie == null) trie = dev.freehold.core.grammar.TokenTrie.of(engine.tokenizer());
                t = trie;
            }
        }
        return t;
    }

    public Options options() {
        return options;
    }

    /** Sequences generating now and requests waiting, for {@code /api/ps} and metrics. */
    public int activeCount() {
        lock.lock();
        try {
            return active.size();
        } finally {
            lock.unlock();
        }
    }

    public int waitingCount() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues a generation. The prompt must be non-empty, of valid ids, and shorter than the context.
     *
     * @throws Rejected when {@code parallel} sequences run and {@code maxQueue} wait already
     */
    public Generation submit(int[] prompt, SamplingParams sampling, Map<Integer, Float> logitBias, int maxTokens,
                             List<String> stop, int topLogprobs) throws Rejected {
        return submit(prompt, sampling, logitBias, maxTokens, stop, topLogprobs, null);
    }

    /** As above, the output kept inside {@code grammar} (null: free). */
    public Generation submit(int[] prompt, SamplingParams sampling, Map<Integer, Float> logitBias, int maxTokens,
                             List<String> stop, int topLogprobs, dev.freehold.core.grammar.Grammar grammar) throws Rejected {
        return submit(prompt, sampling, logitBias, maxTokens, stop, topLogprobs, grammar, null);
    }

    /** As above; with a {@code trigger}, the grammar applies only once the output starts with it (lazy). */
    public Generation submit(int[] prompt, SamplingParams sampling, Map<Integer, Float> logitBias, int maxTokens,
                             List<String> stop, int topLogprobs, dev.freehold.core.grammar.Grammar grammar, String trigger) throws Rejected {
        if (prompt.length == 0) throw new IllegalArgumentException("an empty prompt");
        if (prompt.length >= options.contextSize()) {
            throw new IllegalArgumentException("the prompt has %d tokens, the context holds %d"
                    .formatted(prompt.length, options.contextSize()));
        }
        Generation g = new Generation(prompt.length);
        Sampler sampler = new Sampler(sampling, logitBias);
        for (int t : prompt) sampler.accept(t);
        Job job = new Job(g, prompt.clone(), sampler, new StopStrings(stop), maxTokens, topLogprobs);
        if (grammar != null) job.constraint = new dev.freehold.core.sample.GrammarConstraint(grammar, trie(), endOfGeneration, trigger);
        lock.lock();
        try {
            if (closed) throw new Rejected("the server is shutting down");
            int busy = active.size() + waiting.size();
            if (busy >= options.parallel() + options.maxQueue()) {
                throw new Rejected("%d requests are running and %d waiting; try again later"
                        .formatted(active.size(), waiting.size()));
            }
            waiting.addLast(job);
            listener.queueChanged(waiting.size(), active.size());
            work.signal();
        } finally {
            lock.unlock();
        }
        return g;
    }

    /**
     * Runs {@code task} on the scheduler's thread between two steps (the engine runs one thing at a time), e.g. a
     * decoder embedding. The future completes with its result or its exception.
     */
    public <T> java.util.concurrent.CompletableFuture<T> onEngineThread(java.util.function.Function<Engine, T> task) {
        var f = new java.util.concurrent.CompletableFuture<T>();
        lock.lock();
        try {
            if (closed) {
                f.completeExceptionally(new IllegalStateException("the server is shutting down"));
                return f;
            }
            engineTasks.addLast(() -> {
                try {
                    f.complete(task.apply(engine));
                } catch (RuntimeException | Error e) {
                    f.completeExceptionally(e);
                }
            });
            work.signal();
        } finally {
            lock.unlock();
        }
        return f;
    }

    private void run() {
        while (!closed) {
            try {
                runEngineTasks();
                if (!admit()) continue;
                step();
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException | Error e) {
                // An engine failure ends the sequences in this step; the scheduler goes on serving.
                LOG.error("generation step failed", e);
                List<Job> failed;
                lock.lock();
                try {
                    failed = new ArrayList<>(active);
                } finally {
                    lock.unlock();
                }
                for (Job j : failed) {
                    j.generation.emit(new GenerationEvent.Failed("the engine failed: " + e));
                    release(j, true);
                }
            }
        }
    }

    private void runEngineTasks() {
        while (true) {
            Runnable r;
            lock.lock();
            try {
                r = engineTasks.pollFirst();
            } finally {
                lock.unlock();
            }
            if (r == null) return;
            r.run();
        }
    }

    /** Moves waiting requests into free sequences; waits while there is nothing to do. False if woken to re-check. */
    private boolean admit() throws InterruptedException {
        lock.lock();
        try {
            waiting.removeIf(j -> {
                if (!j.generation.cancelled()) return false;
                j.generation.emit(new GenerationEvent.Done(GenerationEvent.FinishReason.CANCELLED, "", j.prompt.length, 0, 0,
                        System.nanoTime() - j.submitted, 0, 0));
                return true;
            });
            while (active.size() < options.parallel() && !waiting.isEmpty()) {
                Job j = waiting.removeFirst();
                assignSlot(j);
                j.started = System.nanoTime();
                active.add(j);
            }
            listener.queueChanged(waiting.size(), active.size());
            if (active.isEmpty()) {
                if (!closed && engineTasks.isEmpty()) work.await();
                return false;
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Gives the job the free sequence sharing the longest prefix with its prompt (a new one if none is free yet). */
    private void assignSlot(Job j) {
        Sequence best = null;
        int bestCommon = -1;
        for (Sequence s : freeSlots) {
            int common = commonPrefix(s.tokens(), j.prompt);
            if (common > bestCommon) {
                best = s;
                bestCommon = common;
            }
        }
        // Prefer, among equally good matches, a sequence holding nothing: cached conversations stay for their next turn.
        if (bestCommon == 0) {
            for (Sequence s : freeSlots) {
                if (s.length() == 0) {
                    best = s;
                    break;
                }
            }
        }
        freeSlots.remove(best);
        // At least the prompt's last token must run, to get the logits after it.
        int reuse = Math.min(bestCommon, j.prompt.length - 1);
        best.truncate(reuse);
        j.sequence = best;
        j.fed = reuse;
        j.cached = reuse;
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        int i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }

    private void step() {
        List<Job> running;
        lock.lock();
        try {
            running = new ArrayList<>(active);
        } finally {
            lock.unlock();
        }
        List<Engine.BatchEntry> batch = new ArrayList<>(running.size());
        List<Job> owners = new ArrayList<>(running.size());
        List<Integer> fedNow = new ArrayList<>(running.size());
        int budget = options.promptBatch();
        for (Job j : running) {
            if (j.generation.cancelled()) {
                finish(j, GenerationEvent.FinishReason.CANCELLED);
                continue;
            }
            if (j.fed < j.prompt.length) {
                if (budget == 0) continue;
                int n = Math.min(budget, j.prompt.length - j.fed);
                budget -= n;
                boolean last = j.fed + n == j.prompt.length;
                batch.add(new Engine.BatchEntry(j.sequence, Arrays.copyOfRange(j.prompt, j.fed, j.fed + n), last, true));
                owners.add(j);
                fedNow.add(n);
            } else {
                batch.add(new Engine.BatchEntry(j.sequence, new int[] {j.pending}, true, false));
                owners.add(j);
                fedNow.add(0);
            }
        }
        if (batch.isEmpty()) return;
        List<float[]> logits = engine.forward(batch);
        for (int i = 0; i < owners.size(); i++) {
            Job j = owners.get(i);
            j.fed += fedNow.get(i);
            float[] l = logits.get(i);
            if (l == null) continue;
            if (j.promptDone == 0) j.promptDone = System.nanoTime();
            next(j, l);
        }
    }

    /** Samples the job's next token from its logits and reports it, or ends the job. */
    private void next(Job j, float[] logits) {
        if (j.generated >= j.maxTokens) {
            finish(j, GenerationEvent.FinishReason.LENGTH);
            return;
        }
        float[] raw = j.topLogprobs >= 0 ? logits.clone() : null;
        int token;
        try {
            token = j.constraint == null ? j.sampler.sample(logits) : j.constraint.sample(j.sampler, logits);
        } catch (IllegalStateException e) {
            // the vocabulary cannot continue the grammar here (a grammar needing characters no token has)
            j.generation.emit(new GenerationEvent.Failed("the grammar cannot be continued: " + e.getMessage()));
            release(j, false);
            return;
        }
        if (endOfGeneration.contains(token)) {
            finish(j, GenerationEvent.FinishReason.STOP);
            return;
        }
        j.generated++;
        j.sampler.accept(token);
        if (j.constraint != null) j.constraint.accept(token);
        StopStrings.Step text = j.stops.add(j.decoder.add(token));
        if (j.generated == 1) listener.firstToken(System.nanoTime() - j.submitted);
        Logprobs.Step lp = raw == null ? null : Logprobs.of(raw, token, j.topLogprobs);
        j.generation.emit(new GenerationEvent.Token(token, text.text(), lp));
        if (text.stopped() || (j.constraint != null && j.constraint.isFinished())) {
            finish(j, GenerationEvent.FinishReason.STOP);
        } else if (j.generated >= j.maxTokens || j.sequence.length() + 1 > j.sequence.capacity()) {
            finish(j, GenerationEvent.FinishReason.LENGTH);
        } else {
            j.pending = token;
        }
    }

    private void finish(Job j, GenerationEvent.FinishReason reason) {
        String tail = "";
        if (reason != GenerationEvent.FinishReason.CANCELLED && !j.stops.stopped()) {
            StopStrings.Step rest = j.stops.add(j.decoder.flush());
            tail = rest.text() + (rest.stopped() ? "" : j.stops.flush());
            if (rest.stopped()) reason = GenerationEvent.FinishReason.STOP;
        }
        long now = System.nanoTime();
        long promptDone = j.promptDone == 0 ? now : j.promptDone;
        // The place is freed before the client hears Done: a client that submits again on Done must find it free
        // (in the other order a quick resubmission was refused as if the server were still busy).
        release(j, false);
        j.generation.emit(new GenerationEvent.Done(reason, tail, j.prompt.length, j.cached, j.generated,
                j.started - j.submitted, promptDone - j.started, now - promptDone));
        listener.finished(reason, j.prompt.length, j.generated, now - promptDone);
    }

    private void release(Job j, boolean discardCache) {
        lock.lock();
        try {
            if (active.remove(j)) {
                if (discardCache) j.sequence.truncate(0);
                freeSlots.add(j.sequence);
            }
            listener.queueChanged(waiting.size(), active.size());
        } finally {
            lock.unlock();
        }
    }

    /** Stops the scheduler: running and waiting generations end with Failed. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            work.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lock.lock();
        try {
            for (Runnable r : engineTasks) r.run(); // they fail fast: the engine is still open, but answer them
            engineTasks.clear();
            for (Job j : waiting) j.generation.emit(new GenerationEvent.Failed("the server is shutting down"));
            for (Job j : active) j.generation.emit(new GenerationEvent.Failed("the server is shutting down"));
            waiting.clear();
            active.clear();
        } finally {
            lock.unlock();
        }
    }

    /** One request's state while it waits and runs. Touched only by the scheduler thread once admitted. */
    private final class Job {
        final Generation generation;
        final int[] prompt;
        final Sampler sampler;
        final StopStrings stops;
        final IncrementalDecoder decoder;
        final int maxTokens;
        final int topLogprobs;
        dev.freehold.core.sample.GrammarConstraint constraint; // null: free
        final long submitted = System.nanoTime();
        Sequence sequence;
        int fed;       // prompt tokens in the sequence
        int cached;    // of which reused from an earlier request
        int generated;
        int pending;   // the last sampled token, to run next
        long started;
        long promptDone;

        Job(Generation generation, int[] prompt, Sampler sampler, StopStrings stops, int maxTokens, int topLogprobs) {
            this.generation = generation;
            this.prompt = prompt;
            this.sampler = sampler;
            this.stops = stops;
            // As llama2.c (and Generator): text that starts right after BOS loses its leading space.
            this.decoder = engine.tokenizer().newDecoder(prompt[prompt.length - 1] == bos);
            this.maxTokens = maxTokens;
            this.topLogprobs = topLogprobs;
        }
    }
}
