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

    @Option(names = "--temperature", defaultValue = "0.8", description = "0 is greedy (default: ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40", description = "0 keeps all (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", description = "(default: ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--min-p", defaultValue = "0.05", description = "(default: ${DEFAULT-VALUE})")
    float minP;

    @Option(names = "--typical-p", defaultValue = "1.0", description = "1 is off (default: ${DEFAULT-VALUE})")
    float typicalP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", description = "1 is off (default: ${DEFAULT-VALUE})")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", defaultValue = "64", description = "penalty window (default: ${DEFAULT-VALUE})")
    int repeatLastN;

    @Option(names = "--presence-penalty", defaultValue = "0", description = "(default: ${DEFAULT-VALUE})")
    float presencePenalty;

    @Option(names = "--frequency-penalty", defaultValue = "0", description = "(default: ${DEFAULT-VALUE})")
    float frequencyPenalty;

    @Option(names = "--seed", description = "random seed; the same seed gives the same text (default: random)")
    Long seed;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: the machine's cores)")
    Integer threads;

    @Option(names = {"-c", "--ctx-size"}, defaultValue = "4096", description = "context to allocate, at most the model's (default: ${DEFAULT-VALUE})")
    int contextSize;

    @Option(names = "--json", description = "print one JSON object at the end instead of streaming text")
    boolean json;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        SamplingParams params = new SamplingParams(temperature, topK, topP, minP, typicalP, repeatPenalty, repeatLastN,
                presencePenalty, frequencyPenalty, seed != null ? seed : System.nanoTime());
        if (contextSize < 1) throw new IllegalArgumentException("the context size must be positive, got " + contextSize);
        if (threads != null && threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        EngineOptions options = threads == null ? EngineOptions.defaults() : EngineOptions.defaults().withThreads(threads);
        PrintWriter out = spec.commandLine().getOut();
        try (Engine engine = Engine.load(model, options)) {
            int[] ids = prompt.isEmpty() ? new int[0] : engine.tokenizer().encode(prompt, true, false);
            if (!json) {
                out.print(prompt);
                out.flush();
            }
            Generator.Result r = Generator.generate(engine, ids, tokens, contextSize, params, piece -> {
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
