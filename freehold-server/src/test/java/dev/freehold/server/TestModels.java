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

    /**
     * The small random model with a tool-capable chat template of ours (Hermes-style tool_call tags) in its metadata.
     */
    public static synchronized Path randomLlamaWithTools() {
        Path f = dir().resolve("random-llama-tools.gguf");
        if (!Files.exists(f)) {
            try (dev.freehold.core.format.ImportedModel m = dev.freehold.core.format.ModelImporter.open(randomLlamaLongContext(), null)) {
                m.metadata().put("tokenizer.chat_template", dev.freehold.core.format.gguf.GgufValue.ofString(TOOL_TEMPLATE));
                dev.freehold.core.format.convert.GgufConverter.write(f, m.metadata(), m.tensors(),
                        dev.freehold.core.format.convert.QuantizationPolicy.keepSourceTypes(), ProgressListener.NONE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return f;
    }

    /** Our own ChatML-like template that renders tools, assistant tool calls and tool results. */
    static final String TOOL_TEMPLATE = """
            {%- if tools %}<|im_start|>system
            {% if messages[0].role == 'system' %}{{ messages[0].content }}
            {% endif %}Tools:
            {% for t in tools %}{{ t | tojson }}
            {% endfor %}Call a tool as <tool_call>{"name": ..., "arguments": {...}}</tool_call><|im_end|>
            {% endif %}{%- for m in messages %}{% if m.role == 'tool' %}<|im_start|>tool
            {{ m.content }}<|im_end|>
            {% elif m.role == 'assistant' and m.tool_calls %}<|im_start|>assistant
            {% for c in m.tool_calls %}<tool_call>{"name": "{{ c.function.name }}", "arguments": {{ c.function.arguments | tojson }}}</tool_call>{% endfor %}<|im_end|>
            {% elif not (m.role == 'system' and tools) %}<|im_start|>{{ m.role }}
            {{ m.content }}<|im_end|>
            {% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant
            {% endif %}""";

    /** Karpathy's stories260K (real trained weights), from the shared data; skips (or fails in CI) when absent. */
    public static Path stories() {
        return SharedData.require("llama2c-stories260K/stories260K.gguf");
    }

    /** A served model with the ChatML template unless the file carries its own. */
    public static ServedModel serve(String name, Path file, int parallel, int maxQueue, int contextSize, Scheduler.Listener listener)
            throws IOException {
        boolean own;
        try (var g = dev.freehold.core.format.gguf.GgufFile.open(file)) {
            own = g.metadata().containsKey("tokenizer.chat_template");
        }
        return ServedModel.load(name, file, new EngineOptions(2, EngineOptions.KvCacheType.F32), own ? null : "chatml", parallel, maxQueue,
                contextSize, 32, listener);
    }
}
