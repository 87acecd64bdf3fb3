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
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure speed like llama-bench: prompt processing (pp: N tokens in one forward) and text",
                "generation (tg: N tokens one at a time), in tokens/s, mean and standard deviation over repetitions.",
                "One warm-up run of each comes first and is not counted (the JIT needs it).",
                "Memory is read from /proc/self/status after each test: RSS split into anonymous memory (heap, KV",
                "cache, buffers) and file pages (the memory-mapped weights, which are never copied)."},
        footer = {"", "Examples:", "  freehold bench -m llama-1b-q8_0.gguf -p 128 -n 64 -t 2 -r 3",
                "  freehold bench -m llama-1b-q8_0.gguf -p 128,512 -n 64 --json",
                "  freehold bench -m llama-1b-q8_0.gguf -p 0 -n 64 -d 0,512,2048   (generation with that much context)"})
final class BenchCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL")
    Path model;

    @Option(names = {"-p", "--n-prompt"}, defaultValue = "512", split = ",", paramLabel = "N[,N...]",
            description = "prompt tokens, one test per value (0 skips pp; default: ${DEFAULT-VALUE})")
    int[] prompts;

    @Option(names = {"-n", "--n-gen"}, defaultValue = "128", split = ",", paramLabel = "N[,N...]",
            description = "generated tokens, one test per value (0 skips tg; default: ${DEFAULT-VALUE})")
    int[] gens;

    @Option(names = {"-d", "--depth"}, defaultValue = "0", split = ",", paramLabel = "N[,N...]",
            description = {"tokens already in the context before each test, as llama-bench's -d: every pp and tg test runs",
                    "once per value, after that many prompt tokens (not timed) (default: ${DEFAULT-VALUE})"})
    int[] depths;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: the machine's cores)")
    Integer threads;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "3", description = "(default: ${DEFAULT-VALUE})")
    int reps;

    @Option(names = "--json", description = "print results as JSON")
    boolean json;

    @Option(names = "--compare-llamacpp", description = {"also run llama.cpp (de.kherud:llama) on the same file after Freehold and print",
            "the ratio; needs the benchmark module's jar on the class path (see BENCHMARKS.md)"})
    boolean compareLlamaCpp;

    private static final String LLAMA_CPP_BENCH = "dev.freehold.bench.LlamaCppBench";

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    record Row(String test, int tokens, double mean, double sd, List<Double> runs, Memory memory) {
    }

    /** Resident memory in bytes: anonymous (heap, caches) and file-backed (mapped weights); -1 where unknown. */
    record Memory(long rss, long anonymous, long file) {
        static Memory now() {
            long rss = -1;
            long anon = -1;
            long file = -1;
            try {
                for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmRSS:")) rss = kib(line);
                    else if (line.startsWith("RssAnon:")) anon = kib(line);
                    else if (line.startsWith("RssFile:")) file = kib(line);
                }
            } catch (java.io.IOException | RuntimeException e) {
                // not Linux: memory is reported as unknown
            }
            return new Memory(rss, anon, file);
        }

        private static long kib(String line) {
            return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }

        String mib(long bytes) {
            return bytes < 0 ? "?" : Long.toString(bytes >> 20);
        }
    }

    @Override
    public Integer call() throws Exception {
        for (int v : prompts) if (v < 0) throw new IllegalArgumentException("-p must not be negative");
        for (int v : gens) if (v < 0) throw new IllegalArgumentException("-n must not be negative");
        if (reps < 1) throw new IllegalArgumentException("-r must be positive");
        for (int v : depths) if (v < 0) throw new IllegalArgumentException("-d must not be negative");
        boolean deep = java.util.Arrays.stream(depths).anyMatch(v -> v > 0);
        if (deep && compareLlamaCpp) throw new IllegalArgumentException("--compare-llamacpp measures llama.cpp without context; use it without -d");
        java.lang.reflect.Method llamaCpp = null;
        if (compareLlamaCpp) {
            try {
                llamaCpp = Class.forName(LLAMA_CPP_BENCH).getMethod("measure", Path.class, int.class, int[].class, int[].class, int.class);
            } catch (ReflectiveOperationException | LinkageError e) {
                throw new IllegalArgumentException("--compare-llamacpp needs llama.cpp's Java binding, which only the benchmark module carries: "
                        + "./mvnw -P bench -pl freehold-bench -am package -DskipTests, then java --add-modules jdk.incubator.vector "
                        + "--enable-native-access=ALL-UNNAMED -cp freehold-bench/target/benchmarks.jar dev.freehold.cli.Main bench ...");
            }
        }
        EngineOptions options = threads == null ? EngineOptions.defaults() : EngineOptions.defaults().withThreads(threads);
        PrintWriter out = spec.commandLine().getOut();
        List<Row> rows = new ArrayList<>();
        try (Engine engine = Engine.load(model, options)) {
            int vocab = engine.config().vocab();
            int context = engine.config().contextLength();
            int deepest = java.util.Arrays.stream(depths).max().orElse(0);
            // checked before anything is sized by them
            for (int v : prompts) {
                if (v > 0 && (long) deepest + v > context) throw new IllegalArgumentException("%s-p %d exceeds the model's context of %d tokens".formatted(deepest > 0 ? "-d " + deepest + " plus " : "", v, context));
            }
            for (int v : gens) {
                if (v > 0 && (long) deepest + v >= context) throw new IllegalArgumentException("%s-n %d does not fit the model's context of %d tokens".formatted(deepest > 0 ? "-d " + deepest + " plus " : "", v, context));
            }
            // also when no test follows it: it sizes the token buffer
            if (deepest >= context) throw new IllegalArgumentException("-d %d does not fit the model's context of %d tokens".formatted(deepest, context));
            Random rnd = new Random(1);
            int longest = 1;
            for (int v : prompts) longest = Math.max(longest, v);
            int[] tokens = new int[deepest + longest];
            for (int i = 0; i < tokens.length; i++) tokens[i] = rnd.nextInt(vocab);
            for (int depth : depths) {
                String at = depth > 0 ? " @ d" + depth : "";
                for (int prompt : prompts) {
                    if (prompt == 0) continue;
                    int[] timed = java.util.Arrays.copyOfRange(tokens, depth, depth + prompt);
                    rows.add(measure("pp" + prompt + at, prompt, () -> filled(engine, depth + prompt, tokens, depth),
                            s -> engine.forwardPrompt(s, timed)));
                }
                for (int gen : gens) {
                    if (gen == 0) continue;
                    rows.add(measure("tg" + gen + at, gen, () -> filled(engine, depth + gen + 1, tokens, depth), s -> {
                        float[] logits = engine.forward(s, tokens[depth]);
                        for (int i = 1; i < gen; i++) logits = engine.forward(s, Sampler.argmax(logits));
                    }));
                }
            }
        }
        // llama.cpp after Freehold's engine is closed, so that its threads and Freehold's workers do not compete
        Map<String, Double> theirs = Map.of();
        if (llamaCpp != null) {
            @SuppressWarnings("unchecked")
            Map<String, Double> measured = (Map<String, Double>) llamaCpp.invoke(null, model, options.threads(), prompts, gens, reps);
            theirs = measured;
        }
        if (json) {
            ObjectMapper m = new ObjectMapper();
            ArrayNode arr = m.createArrayNode();
            for (Row r : rows) {
                var o = arr.addObject().put("model", model.toString()).put("threads", options.threads()).put("test", r.test())
                        .put("tokens_per_second", r.mean()).put("stddev", r.sd())
                        .put("rss_bytes", r.memory().rss()).put("rss_anonymous_bytes", r.memory().anonymous())
                        .put("rss_file_bytes", r.memory().file());
                if (theirs.containsKey(r.test())) {
                    o.put("llamacpp_tokens_per_second", theirs.get(r.test())).put("ratio", r.mean() / theirs.get(r.test()));
                }
                var runs = o.putArray("runs");
                r.runs().forEach(runs::add);
            }
            out.println(m.writerWithDefaultPrettyPrinter().writeValueAsString(arr));
        } else {
            out.printf(Locale.ROOT, "%-40s %8s %14s %16s %26s%n", "model", "threads", "test", "t/s", "RSS MiB (anon + file)");
            for (Row r : rows) {
                Memory mem = r.memory();
                out.printf(Locale.ROOT, "%-40s %8d %14s %9.2f ± %5.2f %26s%n", model.getFileName(), options.threads(), r.test(), r.mean(), r.sd(),
                        "%s (%s + %s)".formatted(mem.mib(mem.rss()), mem.mib(mem.anonymous()), mem.mib(mem.file())));
            }
            if (!theirs.isEmpty()) {
                out.printf(Locale.ROOT, "%nllama.cpp (de.kherud:llama build, generic AVX2), same file, same threads:%n");
                out.printf(Locale.ROOT, "%-8s %12s %12s %8s%n", "test", "Freehold", "llama.cpp", "ratio");
                for (Row r : rows) {
                    Double t = theirs.get(r.test());
                    if (t != null) out.printf(Locale.ROOT, "%-8s %12.2f %12.2f %8.2f%n", r.test(), r.mean(), t, r.mean() / t);
                }
            }
        }
        out.flush();
        return 0;
    }

    /** A new sequence of the given capacity holding the first {@code depth} tokens (the untimed context of -d). */
    private static Sequence filled(Engine engine, int capacity, int[] tokens, int depth) {
        Sequence s = engine.newSequence(capacity);
        if (depth > 0) engine.forwardPrompt(s, java.util.Arrays.copyOf(tokens, depth));
        return s;
    }

    /** Times {@code run} on a sequence from {@code setup} (not timed): one warm-up, then the repetitions. */
    private Row measure(String test, int tokens, java.util.function.Supplier<Sequence> setup, java.util.function.Consumer<Sequence> run) {
        run.accept(setup.get()); // warm-up
        List<Double> tps = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            Sequence s = setup.get();
            long t0 = System.nanoTime();
            run.accept(s);
            tps.add(tokens * 1e9 / (System.nanoTime() - t0));
        }
        double mean = tps.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        double var = tps.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum() / Math.max(1, tps.size() - 1);
        return new Row(test, tokens, mean, Math.sqrt(var), tps, Memory.now());
    }
}
