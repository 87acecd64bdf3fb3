package dev.freehold.bench;

import dev.freehold.core.grammar.Grammar;
import dev.freehold.core.grammar.JsonSchemaGrammar;
import dev.freehold.core.grammar.TokenTrie;
import dev.freehold.core.infer.Engine;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.infer.Generator;
import dev.freehold.core.sample.GrammarConstraint;
import dev.freehold.core.sample.SamplingParams;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Generation speed with and without a JSON Schema grammar on the same model, prompt and sampler, alternating:
 * how much masking costs. Reports median tokens/s of each, their ratio, and how many steps needed a full mask.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -cp benchmarks.jar dev.freehold.bench.GrammarThroughput
 * MODEL.gguf [tokens=64] [threads=2] [rounds=5] [tokenizer.json]}: with a Hugging Face tokenizer (e.g. Llama 3's), also
 * the time of one full mask of its vocabulary at a few grammar positions, first and repeated (the random-weight
 * benchmark models carry synthetic vocabularies with short pieces).
 */
public final class GrammarThroughput {
    static final String SCHEMA = """
            {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},
             "tags":{"type":"array","items":{"type":"string"}},"active":{"type":"boolean"}},
             "required":["name","age","tags","active"]}""";

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        Grammar grammar = Grammar.parse(JsonSchemaGrammar.toGbnf(SCHEMA));
        try (Engine engine = Engine.load(model, new EngineOptions(threads, EngineOptions.KvCacheType.F32))) {
            long t0 = System.nanoTime();
            TokenTrie trie = TokenTrie.of(engine.tokenizer());
            System.out.printf(Locale.ROOT, "vocabulary trie: %d tokens, %d nodes, built in %.0f ms%n", trie.vocabularySize(), trie.nodeCount(),
                    (System.nanoTime() - t0) / 1e6);
            int[] prompt = engine.tokenizer().encode("Describe a user as JSON:", true, false);
            double[] free = new double[rounds];
            double[] constrained = new double[rounds];
            int masked = 0;
            int steps = 0;
            for (int r = -1; r < rounds; r++) {
                SamplingParams p = new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1f, 1f, 64, 0f, 0f, 100 + r);
                Generator.Result a = Generator.generate(engine, prompt, tokens, 512, p, null, t -> { });
                GrammarConstraint c = new GrammarConstraint(grammar, trie, engine.tokenizer().vocabulary().endOfGeneration());
                Generator.Result b = Generator.generate(engine, prompt, tokens, 512, p, c, t -> { });
                if (r >= 0) {
                    free[r] = a.generationTokensPerSecond();
                    constrained[r] = b.generationTokensPerSecond();
                    masked += c.maskedSteps();
                    steps += c.steps();
                }
            }
            Arrays.sort(free);
            Arrays.sort(constrained);
            double f = free[rounds / 2];
            double g = constrained[rounds / 2];
            System.out.printf(Locale.ROOT, "%s, %d tokens, %d threads, median of %d rounds:%n", model.getFileName(), tokens, threads, rounds);
            System.out.printf(Locale.ROOT, "| run | tok/s |%n|---|---:|%n| unconstrained | %.1f |%n| JSON schema grammar | %.1f |%n", f, g);
            System.out.printf(Locale.ROOT, "ratio constrained / unconstrained: %.2fx; steps needing a full mask: %d of %d%n", g / f, masked, steps);
        }
        if (args.length > 4) maskTimes(Path.of(args[4]), grammar);
    }

    /** One full vocabulary mask at several positions: the first time in a state, and once the state is known. */
    static void maskTimes(Path tokenizerJson, Grammar grammar) throws Exception {
        var tok = dev.freehold.core.tokenizer.Tokenizers.fromHuggingFace(tokenizerJson);
        long t0 = System.nanoTime();
        TokenTrie trie = TokenTrie.of(tok);
        System.out.printf(Locale.ROOT, "%s: %d tokens, trie of %d nodes built in %.0f ms%n", tokenizerJson.getFileName(), trie.vocabularySize(),
                trie.nodeCount(), (System.nanoTime() - t0) / 1e6);
        System.out.printf(Locale.ROOT, "| position | allowed tokens | first mask ms | repeated mask ms |%n|---|---:|---:|---:|%n");
        for (String prefix : new String[] {"", "{\"name\": \"Jo", "{\"name\": \"Jo\", \"age\": 4"}) {
            double first = Double.MAX_VALUE;
            double again = Double.MAX_VALUE;
            java.util.BitSet allowed = new java.util.BitSet();
            for (int r = 0; r < 10; r++) {
                var m = new dev.freehold.core.grammar.GrammarMatcher(grammar);
                m.accept(prefix.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                long a = System.nanoTime();
                m.allowedTokens(trie, allowed);
                long b = System.nanoTime();
                m.allowedTokens(trie, allowed);
                long c = System.nanoTime();
                first = Math.min(first, (b - a) / 1e6);
                again = Math.min(again, (c - b) / 1e6);
            }
            System.out.printf(Locale.ROOT, "| `%s` | %d | %.2f | %.3f |%n", prefix, allowed.cardinality(), first, again);
        }
    }
}
