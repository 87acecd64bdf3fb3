package dev.freehold.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.freehold.core.infer.Engine;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.infer.Generator;
import dev.freehold.core.sample.SamplingParams;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Continue a prompt with the model (raw completion, no chat template), streaming the text.",
                "An empty prompt starts from BOS alone, as llama2.c does. Temperature 0 is greedy."},
        footer = {"", "Examples:", "  freehold generate -m stories260K.gguf -p 'Once upon a time' -n 64 --temperature 0",
                "  freehold generate -m model.gguf -p 'The capital of France is' --seed 42 --json"})
final class GenerateCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "a .gguf model file")
    Path model;

    @Option(names = {"-p", "--prompt"}, defaultValue = "", description = "text to continue (default: empty)")
    String prompt;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "128", description = "tokens to generate at most (default: ${DEFAULT-VALUE})")
    int tokens;

    @Mixin
    SamplingOptions sampling;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: the machine's cores)")
    Integer threads;

    @Option(names = {"-c", "--ctx-size"}, defaultValue = "4096", description = "context to allocate, at most the model's (default: ${DEFAULT-VALUE})")
    int contextSize;

    @Option(names = "--json", description = "print one JSON object at the end instead of streaming text")
    boolean json;

    @Option(names = "--json-schema", paramLabel = "FILE", description = "keep the output to JSON that this schema accepts")
    Path jsonSchema;

    @Option(names = "--grammar", paramLabel = "FILE", description = "keep the output to this GBNF grammar (llama.cpp's format)")
    Path grammarFile;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        SamplingParams params = sampling.params();
        if (contextSize < 1) throw new IllegalArgumentException("the context size must be positive, got " + contextSize);
        if (threads != null && threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        EngineOptions options = threads == null ? EngineOptions.defaults() : EngineOptions.defaults().withThreads(threads);
        PrintWriter out = spec.commandLine().getOut();
        if (jsonSchema != null && grammarFile != null) throw new IllegalArgumentException("give --json-schema or --grammar, not both");
        dev.freehold.core.grammar.Grammar grammar = null;
        if (jsonSchema != null) {
            grammar = dev.freehold.core.grammar.Grammar.parse(dev.freehold.core.grammar.JsonSchemaGrammar.toGbnf(
                    java.nio.file.Files.readString(jsonSchema)));
        } else if (grammarFile != null) {
            grammar = dev.freehold.core.grammar.Grammar.parse(java.nio.file.Files.readString(grammarFile));
        }
        try (Engine engine = Engine.load(model, options)) {
            var constraint = grammar == null ? null : new dev.freehold.core.sample.GrammarConstraint(grammar,
                    dev.freehold.core.grammar.TokenTrie.of(engine.tokenizer()), engine.tokenizer().vocabulary().endOfGeneration());
            int[] ids = prompt.isEmpty() ? new int[0] : engine.tokenizer().encode(prompt, true, false);
            if (!json) {
                out.print(prompt);
                out.flush();
            }
            Generator.Result r = Generator.generate(engine, ids, tokens, contextSize, params, constraint, piece -> {
                if (!json) {
                    out.print(piece);
                    out.flush();
                }
            });
            if (json) {
                ObjectMapper m = new ObjectMapper();
                ObjectNode o = m.createObjectNode();
                o.put("text", r.text());
                var arr = o.putArray("tokens");
                for (int t : r.tokens()) arr.add(t);
                o.put("prompt_tokens", r.promptTokens());
                o.put("finish_reason", r.finishReason().name().toLowerCase(Locale.ROOT));
                ObjectNode timings = o.putObject("timings");
                timings.put("prompt_tokens_per_second", r.promptTokensPerSecond());
                timings.put("generation_tokens_per_second", r.generationTokensPerSecond());
                out.println(m.writeValueAsString(o));
            } else {
                out.println();
                spec.commandLine().getErr().printf(Locale.ROOT, "%n[%d prompt tokens at %.1f tok/s, %d generated at %.1f tok/s, finish: %s]%n",
                        r.promptTokens(), r.promptTokensPerSecond(), r.tokens().length, r.generationTokensPerSecond(),
                        r.finishReason().name().toLowerCase(Locale.ROOT));
            }
            out.flush();
        }
        return 0;
    }
}
