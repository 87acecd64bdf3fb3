package dev.freehold.cli;

import dev.freehold.core.format.convert.GgufConverter;
import dev.freehold.core.format.convert.GgufQuantizer;
import dev.freehold.core.tensor.GgmlType;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Re-encode a GGUF model's weight matrices to one type, as llama-quantize --pure does.",
                "Norms and other 1-D tensors stay F32; rows that a type's block does not divide fall back as llama.cpp does."},
        footer = {"", "Types: f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_K q3_K q4_K q5_K q6_K", "",
                "Example:", "  freehold quantize model-f16.gguf model-q4_K.gguf q4_K"})
final class QuantizeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "INPUT.gguf")
    Path input;

    @Parameters(index = "1", paramLabel = "OUTPUT.gguf")
    Path output;

    @Parameters(index = "2", paramLabel = "TYPE")
    String type;

    @Mixin
    OutputOptions writing;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        writing.checkWritable(output);
        GgmlType t = parseType(type);

        PrintWriter out = spec.commandLine().getOut();
        long before = Files.size(input);
        GgufConverter.Result r = GgufQuantizer.quantize(input, output, t, writing.progress());
        for (String note : r.notes()) out.println("note: " + note);
        long after = Files.size(output);
        out.printf(Locale.ROOT, "%s: %s -> %s: %s (%.1f%%)%n", t.displayName(), Sizes.bytes(before), output, Sizes.bytes(after),
                100.0 * after / before);
        out.println("tensors: " + describe(r.tensorsByType()));
        return 0;
    }

    static GgmlType parseType(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        if (n.matches("Q[2-6]_K_[SML]|Q[2-6]_K_XL")) {
            throw new IllegalArgumentException("'" + name + "' is one of llama-quantize's mixes, which Freehold does not make yet; use "
                    + n.substring(0, 4).toLowerCase(Locale.ROOT).replace("_k", "_K") + " for every weight in that type");
        }
        GgmlType t;
        try {
            t = GgmlType.valueOf(n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown type '" + name + "'; use one of f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_K q3_K q4_K q5_K q6_K");
        }
        return t;
    }

    static String describe(Map<GgmlType, Integer> byType) {
        StringJoiner j = new StringJoiner(", ");
        byType.forEach((t, n) -> j.add(n + " " + t.displayName()));
        return j.toString();
    }
}
