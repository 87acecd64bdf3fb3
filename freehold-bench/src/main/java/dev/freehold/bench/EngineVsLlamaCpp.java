package dev.freehold.bench;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.LogFormat;
import dev.freehold.core.infer.Engine;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.infer.Sequence;
import dev.freehold.core.sample.Sampler;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Prompt processing and generation speed of Freehold and llama.cpp (de.kherud:llama, an AVX2 build) on the same
 * GGUF files, in one run, with the same thread count. Medians of 3 runs after a warm-up.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp
 * freehold-bench/target/benchmarks.jar dev.freehold.bench.EngineVsLlamaCpp [-t 2] [-p 128] [-n 64] MODEL.gguf...}
 * llama.cpp is timed through the binding's completion call with EOS ignored: pp = prompt tokens / time of a
 * 1-token completion; tg = 64 / (time of a 65-token completion minus that).
 */
public final class EngineVsLlamaCpp {
    public static void main(String[] args) throws Exception {
        int threads = 2;
        int pp = 128;
        int tg = 64;
        boolean freeholdOnly = false;
        List<Path> models = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-t" -> threads = Integer.parseInt(args[++i]);
                case "-p" -> pp = Integer.parseInt(args[++i]);
                case "-n" -> tg = Integer.parseInt(args[++i]);
                case "--freehold-only" -> freeholdOnly = true; // e.g. several weight types in one JVM
                default -> models.add(Path.of(args[i]));
            }
        }
        LlamaModel.setLogger(LogFormat.TEXT, (level, msg) -> { });
        System.out.printf(Locale.ROOT, "%-28s %7s %10s %10s %7s %10s %10s %7s%n", "model", "threads", "pp Freehold", "llama.cpp", "ratio",
                "tg Freehold", "llama.cpp", "ratio");
        // All Freehold runs first: the binding's models cannot be closed (see below), and their threads left
        // behind would otherwise compete with the spinning worker pool of the models measured after them.
        double[][] oursAll = new double[models.size()][];
        for (int i = 0; i < models.size(); i++) oursAll[i] = freehold(models.get(i), threads, pp, tg);
        for (int i = 0; i < models.size(); i++) {
            Path m = models.get(i);
            double[] ours = oursAll[i];
            double[] theirs = freeholdOnly ? new double[] {Double.NaN, Double.NaN} : llamaCpp(m, threads, pp, tg);
            System.out.printf(Locale.ROOT, "%-28s %7d %10.2f %10.2f %7.2f %10.2f %10.2f %7.2f%n", m.getFileName(), threads,
                    ours[0], theirs[0], ours[0] / theirs[0], ours[1], theirs[1], ours[1] / theirs[1]);
        }
        System.out.flush();
        Runtime.getRuntime().halt(0); // the binding's close() can hang
    }

    static double[] freehold(Path model, int threads, int pp, int tg) throws Exception {
        try (Engine e = Engine.load(model, EngineOptions.defaults().withThreads(threads))) {
            int[] prompt = new int[pp];
            for (int i = 0; i < pp; i++) prompt[i] = 3 + (i * 7919) % (e.config().vocab() - 3);
            double[] ppRuns = new double[3];
            double[] tgRuns = new double[3];
            for (int r = -1; r < 3; r++) {
                Sequence s = e.newSequence(pp + tg + 1);
                long t0 = System.nanoTime();
                float[] logits = e.forwardPrompt(s, prompt);
                long t1 = System.nanoTime();
                for (int i = 0; i < tg; i++) logits = e.forward(s, Sampler.argmax(logits));
                long t2 = System.nanoTime();
                if (r >= 0) {
                    ppRuns[r] = pp * 1e9 / (t1 - t0);
                    tgRuns[r] = tg * 1e9 / (t2 - t1);
                }
            }
            return new double[] {median(ppRuns), median(tgRuns)};
        }
    }

    static double[] llamaCpp(Path model, int threads, int pp, int tg) {
        LlamaModel m = new LlamaModel(new ModelParameters().setModel(model.toString()).setCtxSize(pp + tg + 16)
                .setThreads(threads).setThreadsBatch(threads).setBatchSize(512).setGpuLayers(0));
        StringBuilder text = new StringBuilder();
        while (m.encode(text.toString()).length < pp - 1) text.append(" ab");
        String prompt = text.toString();
        double[] ppRuns = new double[3];
        double[] tgRuns = new double[3];
        for (int r = -1; r < 3; r++) {
            long t0 = System.nanoTime();
            m.complete(params(prompt, 1));
            long t1 = System.nanoTime();
            m.complete(params(prompt, tg + 1));
            long t2 = System.nanoTime();
            if (r >= 0) {
                ppRuns[r] = pp * 1e9 / (t1 - t0);
                tgRuns[r] = tg * 1e9 / ((t2 - t1) - (t1 - t0));
            }
        }
        return new double[] {median(ppRuns), median(tgRuns)};
    }

    static InferenceParameters params(String prompt, int n) {
        return new InferenceParameters(prompt).setNPredict(n).setTemperature(0f).setIgnoreEos(true).setCachePrompt(false);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
