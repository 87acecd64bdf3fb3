package dev.freehold.cli;

import dev.freehold.core.sample.SamplingParams;
import picocli.CommandLine.Option;

/** Sampling options shared by generate and chat (a picocli mixin); defaults are llama.cpp's. */
final class SamplingOptions {
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

    SamplingParams params() {
        return new SamplingParams(temperature, topK, topP, minP, typicalP, repeatPenalty, repeatLastN, presencePenalty,
                frequencyPenalty, seed != null ? seed : System.nanoTime());
    }
}
