package dev.freehold.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.freehold.core.infer.Engine;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.infer.Sequence;
import dev.freehold.core.sample.Sampler;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure speed like llama-bench: prompt processing (pp: N tokens in one forward) and text",
                "generation (tg: N tokens one at a time), in tokens/s, mean and standard deviation over repetitions.",
                "One warm-up run of each comes first and is not counted (the JIT needs it)."},
        footer = {"", "Example:", "  freehold bench -m llama-1b-q8_0.gguf -p 128 -n 64 -t 2 -r 3"})
final class BenchCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL")
    Path model;

    @Option(names = {"-p", "--n-prompt"}, defaultValue = "512", description = "prompt tokens (0 skips pp; default: ${DEFAULT-VALUE})")
    int prompt;

    @Option(names = {"-n", "--n-gen"}, defaultValue = "128", description = "generated tokens (0 skips tg; default: ${DEFAULT-VALUE})")
    int gen;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: the machine's cores)")
    Integer threads;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "3", description = "(default: ${DEFAULT-VALUE})")
    int reps;

    @Option(names = "--json", description = "print results as JSON")
    boolean json;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    record Row(String test, int tokens, double mean, double sd, List<Double> runs) {
    }

    @Override
    public Integer call() throws Exception {
        if (prompt < 0 || gen < 0 || reps < 1) throw new IllegalArgumentException("-p and -n must not be negative, -r must be positive");
        EngineOptions options = threads == null ? EngineOptions.defaults() : EngineOptions.defaults().withThreads(threads);
        PrintWriter out = spec.commandLine().getOut();
        List<Row> rows = new ArrayList<>();
        try (Engine engine = Engine.load(model, options)) {
            int vocab = engine.config().vocab();
            Random rnd = new Random(1);
            int[] tokens = new int[Math.max(prompt, 1)];
            for (int i = 0; i < tokens.length; i++) tokens[i] = rnd.nextInt(vocab);
            int capacity = Math.min(engine.config().contextLength(), Math.max(prompt, 1) + gen + 1);
            if (prompt > 0) rows.add(measure("pp" + prompt, prompt, () -> {
                Sequence s = engine.newSequence(capacity);
                engine.forward(s, java.util.Arrays.copyOf(tokens, prompt));
            }));
            if (gen > 0) rows.add(measure("tg" + gen, gen, () -> {
                Sequence s = engine.newSequence(capacity);
                float[] logits = engine.forward(s, tokens[0]);
                for (int i = 1; i < gen; i++) logits = engine.forward(s, Sampler.argmax(logits));
            }));
            if (json) {
                ObjectMapper m = new ObjectMapper();
                ArrayNode arr = m.createArrayNode();
                for (Row r : rows) {
                    var o = arr.addObject().put("model", model.toString()).put("threads", options.threads()).put("test", r.test())
                            .put("tokens_per_second", r.mean()).put("stddev", r.sd());
                    var runs = o.putArray("runs");
                    r.runs().forEach(runs::add);
                }
                out.println(m.writerWithDefaultPrettyPrinter().writeValueAsString(arr));
            } else {
                out.printf(Locale.ROOT, "%-40s %8s %8s %16s%n", "model", "threads", "test", "t/s");
                for (Row r : rows) {
                    out.printf(Locale.ROOT, "%-40s %8d %8s %9.2f ± %5.2f%n", model.getFileName(), options.threads(), r.test(), r.mean(), r.sd());
                }
            }
            out.flush();
        }
        return 0;
    }

    private Row measure(String test, int tokens, Runnable run) {
        run.run(); // warm-up
        List<Double> tps = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            run.run();
            tps.add(tokens * 1e9 / (System.nanoTime() - t0));
        }
        double mean = tps.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        double var = tps.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum() / Math.max(1, tps.size() - 1);
        return new Row(test, tokens, mean, Math.sqrt(var), tps);
    }
}
