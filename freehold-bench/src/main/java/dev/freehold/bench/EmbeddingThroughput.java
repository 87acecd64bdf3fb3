package dev.freehold.bench;

import dev.freehold.core.embed.BundledEmbeddingModels;
import dev.freehold.core.infer.BertEncoder;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.util.ProgressListener;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Sentences per second for the bundled all-MiniLM-L6-v2: Freehold's BERT encoder against ONNX Runtime (LangChain4j's
 * {@code AllMiniLmL6V2EmbeddingModel}, its defaults) on the same sentences in the same run. Every sentence is exactly
 * {@code tokens} tokens with CLS and SEP; batches of {@code batch}.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -cp benchmarks.jar dev.freehold.bench.EmbeddingThroughput
 * [threads=2] [batch=32] [tokens=64] [batches=8] [rounds=5]}
 */
public final class EmbeddingThroughput {
    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        int batches = args.length > 3 ? Integer.parseInt(args[3]) : 8;
        int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        try (BertEncoder encoder = BertEncoder.load(BundledEmbeddingModels.gguf("all-minilm", ProgressListener.NONE).orElseThrow(),
                new EngineOptions(threads, EngineOptions.KvCacheType.F32))) {
            List<String> sentences = sentences(encoder, batch * batches, tokens);
            AllMiniLmL6V2EmbeddingModel onnx = new AllMiniLmL6V2EmbeddingModel();
            double[] ours = new double[rounds];
            double[] ref = new double[rounds];
            for (int round = -1; round < rounds; round++) { // round -1 warms both up
                long t0 = System.nanoTime();
                for (int b = 0; b < batches; b++) {
                    List<int[]> ids = sentences.subList(b * batch, (b + 1) * batch).stream().map(s -> encoder.tokenize(s).ids()).toList();
                    encoder.embed(ids, BertEncoder.Pooling.MEAN, true);
                }
                long t1 = System.nanoTime();
                for (int b = 0; b < batches; b++) {
                    onnx.embedAll(sentences.subList(b * batch, (b + 1) * batch).stream().map(TextSegment::from).toList());
                }
                long t2 = System.nanoTime();
                if (round >= 0) {
                    ours[round] = sentences.size() / ((t1 - t0) / 1e9);
                    ref[round] = sentences.size() / ((t2 - t1) / 1e9);
                }
            }
            Arrays.sort(ours);
            Arrays.sort(ref);
            double o = ours[rounds / 2];
            double r = ref[rounds / 2];
            System.out.printf(Locale.ROOT, "all-minilm, %d threads, batches of %d, %d-token sentences, median of %d rounds:%n", threads, batch, tokens, rounds);
            System.out.printf(Locale.ROOT, "| engine | sentences/s | range |%n|---|---:|---:|%n");
            System.out.printf(Locale.ROOT, "| Freehold (BertEncoder) | %.1f | %.1f-%.1f |%n", o, ours[0], ours[rounds - 1]);
            System.out.printf(Locale.ROOT, "| ONNX Runtime (LangChain4j) | %.1f | %.1f-%.1f |%n", r, ref[0], ref[rounds - 1]);
            System.out.printf(Locale.ROOT, "ratio Freehold / ONNX Runtime: %.2fx%n", o / r);
        }
    }

    /** Sentences of exactly {@code tokens} tokens (with CLS and SEP) from a word list, checked with the tokenizer. */
    static List<String> sentences(BertEncoder encoder, int n, int tokens) {
        String[] words = ("the bank approved a loan for the new hospital wing while nurses measured patient data and "
                + "developers wrote java services that stream tokens over http to applications in the city council office").split(" ");
        SplittableRandom r = new SplittableRandom(1);
        List<String> out = new ArrayList<>();
        while (out.size() < n) {
            StringBuilder sb = new StringBuilder();
            while (encoder.tokenize(sb.toString()).ids().length < tokens) sb.append(words[r.nextInt(words.length)]).append(' ');
            String s = sb.toString().trim();
            if (encoder.tokenize(s).ids().length == tokens) out.add(s);
        }
        return out;
    }
}
