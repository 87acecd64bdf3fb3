package dev.freehold.core.format;

import dev.freehold.core.format.convert.GgufQuantizer;
import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.format.hf.HfImporter;
import dev.freehold.core.format.llama2c.Llama2cCheckpoint;
import dev.freehold.core.format.llama2c.Llama2cImporter;
import dev.freehold.core.format.llama2c.Llama2cTokenizerFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.stream.Stream;

/** Opens any model input Freehold can convert: a GGUF file, a Hugging Face directory, or a llama2.c checkpoint. */
public final class ModelImporter {
    private ModelImporter() {
    }

    public enum Kind { GGUF, HUGGING_FACE, LLAMA2C }

    public static Kind detect(Path input) throws IOException {
        if (Files.isDirectory(input)) {
            if (HfImporter.isModelDirectory(input)) return Kind.HUGGING_FACE;
            throw new ModelFormatException(input, "a directory without config.json is not a Hugging Face model");
        }
        if (!Files.isRegularFile(input)) {
            throw new ModelFormatException(input, "no such file or directory");
        }
        byte[] magic = new byte[4];
        try (InputStream in = Files.newInputStream(input)) {
            int n = in.readNBytes(magic, 0, 4);
            if (n == 4 && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' && magic[3] == 'F') return Kind.GGUF;
        }
        return Kind.LLAMA2C;
    }

    /**
     * @param tokenizer for a llama2.c checkpoint, its {@code tokenizer.bin}; when null, {@code tokenizer.bin} or a
     *                  single {@code tok*.bin} beside the checkpoint is used
     */
    public static ImportedModel open(Path input, Path tokenizer) throws IOException {
        return switch (detect(input)) {
            case HUGGING_FACE -> HfImporter.open(input);
            case GGUF -> {
                GgufFile g = GgufFile.open(input);
                yield new ImportedModel("GGUF v" + g.version(), new LinkedHashMap<>(g.metadata()), GgufQuantizer.sources(g), List.of(), List.of(g));
            }
            case LLAMA2C -> openLlama2c(input, tokenizer);
        };
    }

    private static ImportedModel openLlama2c(Path input, Path tokenizer) throws IOException {
        Path tok = tokenizer != null ? tokenizer : findLlama2cTokenizer(input);
        Llama2cCheckpoint ckpt = Llama2cCheckpoint.open(input);
        try {
            Llama2cTokenizerFile t = Llama2cTokenizerFile.read(tok, ckpt.config().vocabSize());
            String name = input.getFileName().toString().replaceFirst("\\.bin$", "");
            List<String> notes = new ArrayList<>();
            notes.add("tokenizer: " + tok);
            return new ImportedModel("llama2.c", Llama2cImporter.metadata(ckpt.config(), t, name), ckpt.tensors(), notes, List.of(ckpt));
        } catch (RuntimeException | IOException e) {
            ckpt.close();
            throw e;
        }
    }

    private static Path findLlama2cTokenizer(Path checkpoint) throws IOException {
        Path dir = checkpoint.toAbsolutePath().getParent();
        Path standard = dir.resolve("tokenizer.bin");
        if (Files.isRegularFile(standard)) return standard;
        List<Path> candidates;
        try (Stream<Path> s = Files.list(dir)) {
            candidates = s.filter(p -> p.getFileName().toString().matches("tok.*\\.bin") && !p.equals(checkpoint.toAbsolutePath())).toList();
        }
        if (candidates.size() == 1) return candidates.getFirst();
        throw new ModelFormatException(checkpoint, "a llama2.c checkpoint needs its tokenizer: pass --tokenizer FILE (e.g. tokenizer.bin)");
    }
}
