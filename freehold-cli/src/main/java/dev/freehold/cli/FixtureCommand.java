package dev.freehold.cli;

import dev.freehold.core.format.convert.GgufConverter;
import dev.freehold.core.format.synthetic.RandomLlamaModel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "fixture", mixinStandardHelpOptions = true,
        description = {"Write a Llama-architecture GGUF with random weights and real shapes, for tests and benchmarks.",
                "Its output is gibberish; its size, shapes and speed are those of the real model."},
        footer = {"", "Shapes: llama-3.2-1b (16 layers, width 2048, 32/8 heads, FFN 8192, vocabulary 128256, tied),",
                "        or DIM,FFN,LAYERS,HEADS,KV_HEADS,VOCAB (e.g. 256,768,2,4,2,1024)", "",
                "Example:", "  freehold fixture --shape llama-3.2-1b --type q8_0 llama-1b-random-q8_0.gguf"})
final class FixtureCommand implements Callable<Integer> {
    private static final Pattern CUSTOM = Pattern.compile("(\\d+),(\\d+),(\\d+),(\\d+),(\\d+),(\\d+)");

    @Parameters(index = "0", paramLabel = "OUTPUT.gguf")
    Path output;

    @Option(names = "--shape", defaultValue = "llama-3.2-1b", description = "model shape (default: ${DEFAULT-VALUE})")
    String shape;

    @Option(names = "--type", defaultValue = "f16", description = "weight type (default: ${DEFAULT-VALUE})")
    String type;

    @Option(names = "--seed", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Mixin
    OutputOptions writing;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        writing.checkWritable(output);

        RandomLlamaModel.Shape s = parseShape(shape);
        GgufConverter.Result r = RandomLlamaModel.write(output, s, QuantizeCommand.parseType(type), seed, writing.progress());
        PrintWriter out = spec.commandLine().getOut();
        for (String note : r.notes()) out.println("note: " + note);
        out.printf("wrote %s (%s): %s%n", output, Sizes.bytes(Files.size(output)), QuantizeCommand.describe(r.tensorsByType()));
        return 0;
    }

    static RandomLlamaModel.Shape parseShape(String s) {
        if (s.equalsIgnoreCase("llama-3.2-1b")) return RandomLlamaModel.Shape.llama32OneB();
        Matcher m = CUSTOM.matcher(s.replace(" ", ""));
        if (!m.matches()) {
            throw new IllegalArgumentException("unknown shape '" + s + "'; use llama-3.2-1b or DIM,FFN,LAYERS,HEADS,KV_HEADS,VOCAB");
        }
        int[] v = new int[6];
        for (int i = 0; i < 6; i++) v[i] = Integer.parseInt(m.group(i + 1));
        return new RandomLlamaModel.Shape(v[0], v[1], v[2], v[3], v[4], v[5], 4096, false);
    }
}
