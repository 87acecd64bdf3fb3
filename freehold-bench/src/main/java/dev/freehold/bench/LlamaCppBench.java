package dev.freehold.bench;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.LogFormat;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * llama.cpp (the build inside de.kherud:llama, generic AVX2) measured like {@code freehold bench}: called by
 * reflection from the CLI's {@code bench --compare-llamacpp} when this module is on the class path, e.g.
 * {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp freehold-bench/target/benchmarks.jar
 * dev.freehold.cli.Main bench -m MODEL --compare-llamacpp}.
 *
 * <p>pp N: a completion of one token after an N-token prompt; tg N: the time of N+1 generated tokens after a
 * one-token prompt minus that of one, so both engines generate from an (almost) empty context as llama-bench does.
 * Timed through the binding's completion call, so its per-call overhead counts against llama.cpp.
 */
public final class LlamaCppBench {
    private LlamaCppBench() {
    }

    /** Test name ("pp512", "tg64") to the median tokens/s of {@code reps} runs after one warm-up. */
    public static Map<String, Double> measure(Path model, int threads, int[] prompts, int[] gens, int reps) {
        LlamaModel.setLogger(LogFormat.TEXT, (level, msg) -> { });
        int longest = 1;
        for (int p : prompts) longest = Math.max(longest, p);
        int longestGen = 1;
        for (int g : gens) longestGen = Math.max(longestGen, g);
        // The binding's model cannot be closed reliably (close() can hang): one per process, left to the exit.
        LlamaModel m = new LlamaModel(new ModelParameters().setModel(model.toString()).setCtxSize(Math.max(longest, longestGen) + 16)
                .setThreads(threads).setThreadsBatch(threads).setBatchSize(512).setGpuLayers(0));
        Map<String, Double> result = new LinkedHashMap<>();
        for (int pp : prompts) {
            if (pp == 0) continue;
            String prompt = promptOf(m, pp);
            double[] runs = new double[reps];
            for (int r = -1; r < reps; r++) {
                long t0 = System.nanoTime();
                m.complete(EngineVsLlamaCpp.params(prompt, 1));
                if (r >= 0) runs[r] = pp * 1e9 / (System.nanoTime() - t0);
            }
            result.put("pp" + pp, EngineVsLlamaCpp.median(runs));
        }
        for (int tg : gens) {
            if (tg == 0) continue;
            double[] runs = new double[reps];
            for (int r = -1; r < reps; r++) {
                long t0 = System.nanoTime();
                m.complete(EngineVsLlamaCpp.params("a", 1));
                long t1 = System.nanoTime();
                m.complete(EngineVsLlamaCpp.params("a", tg + 1));
                long t2 = System.nanoTime();
                if (r >= 0) runs[r] = tg * 1e9 / ((t2 - t1) - (t1 - t0));
            }
            result.put("tg" + tg, EngineVsLlamaCpp.median(runs));
        }
        return result;
    }

    private static String promptOf(LlamaModel m, int tokens) {
        StringBuilder text = new StringBuilder();
        while (m.encode(text.toString()).length < tokens - 1) text.append(" ab");
        return text.toString();
    }
}
