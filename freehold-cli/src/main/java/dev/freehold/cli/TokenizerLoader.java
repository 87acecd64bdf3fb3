package dev.freehold.cli;

import dev.freehold.core.format.ModelFormatException;
import dev.freehold.core.format.ModelImporter;
import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.tokenizer.Tokenizer;
import dev.freehold.core.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the tokenizer for {@code -m}: a GGUF file, a tokenizer.json, or a directory holding one (or encoder.json + vocab.bpe). */
final class TokenizerLoader {
    private TokenizerLoader() {
    }

    static Tokenizer load(Path m, String pre) throws IOException {
        if (Files.isDirectory(m)) {
            if (Files.isRegularFile(m.resolve("tokenizer.json"))) return Tokenizers.fromHuggingFace(m.resolve("tokenizer.json"));
            if (Files.isRegularFile(m.resolve("encoder.json")) && Files.isRegularFile(m.resolve("vocab.bpe"))) {
                return Tokenizers.fromGpt2Files(m.resolve("encoder.json"), m.resolve("vocab.bpe"), pre == null ? "gpt-2" : pre);
            }
            throw new ModelFormatException(m, "no tokenizer here (looked for tokenizer.json, and encoder.json with vocab.bpe)");
        }
        if (m.getFileName().toString().endsWith(".json")) return Tokenizers.fromHuggingFace(m);
        if (ModelImporter.detect(m) != ModelImporter.Kind.GGUF) {
            throw new ModelFormatException(m, "not a GGUF file, tokenizer.json or tokenizer directory");
        }
        try (GgufFile g = GgufFile.open(m)) {
            return Tokenizers.fromGguf(g);
        }
    }
}
