package dev.freehold.core.format;

import dev.freehold.core.format.convert.TensorSource;
import dev.freehold.core.format.gguf.GgufValue;
import java.util.List;
import java.util.Map;

/**
 * A model read from any supported format, ready to be written as GGUF: metadata in llama.cpp's keys, tensors
 * under llama.cpp's names, and notes about anything the import had to decide. Holds file mappings until closed.
 */
public record ImportedModel(String format, Map<String, GgufValue> metadata, List<TensorSource> tensors, List<String> notes,
                            List<AutoCloseable> resources) implements AutoCloseable {

    @Override
    public void close() {
        RuntimeException first = null;
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                if (first == null) first = new IllegalStateException("closing " + r, e);
            }
        }
        if (first != null) throw first;
    }
}
