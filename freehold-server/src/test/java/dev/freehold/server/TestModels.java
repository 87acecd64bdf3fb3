package dev.freehold.server;

import dev.freehold.core.format.synthetic.RandomLlamaModel;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.testing.SharedData;
import dev.freehold.core.util.ProgressListener;
import dev.freehold.server.generation.Scheduler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Models for the server's tests: random weights in real shapes, written once per JVM, and stories260K. */
public final class TestModels {
    private TestModels() {
    }

    private static Path dir;

    private static synchronized Path dir() {
        if (dir == null) {
            try {
                dir = Files.createTempDirectory("freehold-server-models");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dir;
    }

    /** A small random Llama-shaped model (Q8_0), 2 layers, GQA, context 512, synthetic byte vocabulary. */
    public static synchronized Path randomLlama() {
        Path f = dir().resolve("random-llama-q8_0.gguf");
        if (!Files.exists(f)) {
            try {
                RandomLlamaModel.write(f, new RandomLlamaModel.Shape(128, 256, 2, 4, 2, 400, 512, false), GgmlType.Q8_0, 11,
                        ProgressListener.NONE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return f;
    }

    /** A larger random model with a 4096-position context: long generations that take seconds, not milliseconds. */
    public static synchronized Path randomLlamaLongContext() {
        Path f = dir().resolve("random-llama-4k-q8_0.gguf");
        if (!Files.exists(f)) {
            try {
                RandomLlamaModel.write(f, new RandomLlamaModel.Shape(512, 1024, 4, 8, 2, 400, 4096, false), GgmlType.Q8_0, 12,
                        ProgressListener.NONE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return f;
    }

    /** Karpathy's stories260K (real trained weights), from the shared data; skips (or fails in CI) when absent. */
    public static Path stories() {
        return SharedData.require("llama2c-stories260K/stories260K.gguf");
    }

    /** A served model with the ChatML template (neither test model carries one). */
    public static ServedModel serve(String name, Path file, int parallel, int maxQueue, int contextSize, Scheduler.Listener listener)
            throws IOException {
        return ServedModel.load(name, file, new EngineOptions(2, EngineOptions.KvCacheType.F32), "chatml", parallel, maxQueue,
                contextSize, 32, listener);
    }
}
