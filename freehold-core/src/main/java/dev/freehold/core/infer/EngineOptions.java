package dev.freehold.core.infer;

/**
 * How to run a model.
 *
 * @param threads worker threads that split each matrix (default: the machine's cores)
 * @param kvCache precision of the KV cache: F16 as llama.cpp's default (values are rounded to half precision as they
 *                are cached), or F32 for exact float arithmetic
 */
public record EngineOptions(int threads, KvCacheType kvCache) {
    public enum KvCacheType { F16, F32 }

    public EngineOptions {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }

    public static EngineOptions defaults() {
        return new EngineOptions(Runtime.getRuntime().availableProcessors(), KvCacheType.F16);
    }

    public EngineOptions withThreads(int n) {
        return new EngineOptions(n, kvCache);
    }

    public EngineOptions withKvCache(KvCacheType type) {
        return new EngineOptions(threads, type);
    }
}
