package dev.freehold.server.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.freehold.core.infer.Engine;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.infer.Generator;
import dev.freehold.core.sample.SamplingParams;
import dev.freehold.server.TestModels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching against the engine run alone: whatever else shares the batch (other prompts, prompts processed
 * in chunks between decode steps, sampled neighbours), each sequence's tokens are those of {@link Generator} on the
 * same prompt and settings.
 */
class SchedulerTest {
    static Engine engine;
    static Engine alone;

    @BeforeAll
    static void load() throws Exception {
        engine = Engine.load(TestModels.randomLlama(), new EngineOptions(2, EngineOptions.KvCacheType.F32));
        alone = Engine.load(TestModels.randomLlama(), new EngineOptions(2, EngineOptions.KvCacheType.F32));
    }

    @AfterAll
    static void close() {
        engine.close();
        alone.close();
    }

    record Outcome(List<Integer> tokens, String text, GenerationEvent.Done done) {
    }

    static Outcome collect(Generation g) throws InterruptedException {
        List<Integer> tokens = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        while (true) {
            GenerationEvent e = g.take();
            switch (e) {
                case GenerationEvent.Token t -> {
                    tokens.add(t.id());
                    text.append(t.text());
                }
                case GenerationEvent.Done d -> {
                    text.append(d.tail());
                    return new Outcome(tokens, text.toString(), d);
                }
                case GenerationEvent.Failed f -> throw new AssertionError(f.message());
            }
        }
    }

    static int[] prompt(SplittableRandom r, int length) {
        int[] p = new int[length];
        p[0] = 1; // BOS
        for (int i = 1; i < length; i++) p[i] = 3 + r.nextInt(390);
        return p;
    }

    @Test
    void eachSequenceInABatchGeneratesWhatItWouldAlone() throws Exception {
        SplittableRandom r = new SplittableRandom(5);
        int n = 6;
        int[][] prompts = new int[n][];
        SamplingParams[] params = new SamplingParams[n];
        for (int i = 0; i < n; i++) {
            // prompts from 3 to 100 tokens: the long ones are processed in chunks between others' decode steps
            prompts[i] = prompt(r, 3 + r.nextInt(98));
            params[i] = i % 2 == 0 ? SamplingParams.greedy() : new SamplingParams(1f, 40, 0.95f, 0.05f, 1f, 1.1f, 64, 0.1f, 0.1f, 100 + i);
        }
        List<Outcome> together = new ArrayList<>();
        try (Scheduler s = new Scheduler(engine, new Scheduler.Options(4, 8, 256, 32), new Scheduler.Listener() {}, "test")) {
            List<Generation> gens = new ArrayList<>();
            for (int i = 0; i < n; i++) gens.add(s.submit(prompts[i], params[i], Map.of(), 40, List.of(), -1));
            for (Generation g : gens) together.add(collect(g));
        }
        for (int i = 0; i < n; i++) {
            Generator.Result ref = Generator.generate(alone, prompts[i], 40, 256, params[i], t -> { });
            List<Integer> expected = new ArrayList<>();
            for (int t : ref.tokens()) expected.add(t);
            assertThat(together.get(i).tokens()).as("sequence %d", i).isEqualTo(expected);
            assertThat(together.get(i).text()).isEqualTo(ref.text());
            assertThat(together.get(i).done().completionTokens()).isEqualTo(expected.size());
            assertThat(together.get(i).done().promptTokens()).isEqualTo(prompts[i].length);
        }
    }

    @Test
    void aRepeatedPromptReusesTheCachedPrefixAndGivesTheSameTokens() throws Exception {
        int[] p = prompt(new SplittableRandom(9), 60);
        int[] longer = java.util.Arrays.copyOf(p, 70);
        for (int i = 60; i < 70; i++) longer[i] = 10 + i;
        try (Scheduler s = new Scheduler(engine, new Scheduler.Options(1, 4, 256, 32), new Scheduler.Listener() {}, "test")) {
            Outcome first = collect(s.submit(p, SamplingParams.greedy(), Map.of(), 20, List.of(), -1));
            Outcome again = collect(s.submit(p, SamplingParams.greedy(), Map.of(), 20, List.of(), -1));
            Outcome extended = collect(s.submit(longer, SamplingParams.greedy(), Map.of(), 20, List.of(), -1));
            assertThat(first.done().cachedPromptTokens()).isZero();
            assertThat(again.done().cachedPromptTokens()).isEqualTo(59); // the last prompt token always runs
            assertThat(again.tokens()).isEqualTo(first.tokens());
            assertThat(extended.done().cachedPromptTokens()).isEqualTo(60);
            Generator.Result ref = Generator.generate(alone, longer, 20, 256, SamplingParams.greedy(), t -> { });
            assertThat(extended.tokens()).containsExactlyElementsOf(java.util.Arrays.stream(ref.tokens()).boxed().toList());
        }
    }

    @Test
    void stopStringsEndTheSequenceAndAreNotEmitted() throws Exception {
        int[] p = prompt(new SplittableRandom(3), 10);
        try (Scheduler s = new Scheduler(engine, new Scheduler.Options(2, 4, 256, 32), new Scheduler.Listener() {}, "test")) {
            Outcome free = collect(s.submit(p, SamplingParams.greedy(), Map.of(), 30, List.of(), -1));
            assertThat(free.text().length()).isGreaterThan(4);
            // a stop string taken from the middle of the free text: the output is the text before it
            String stop = free.text().substring(2, 4);
            int at = free.text().indexOf(stop);
            Outcome stopped = collect(s.submit(p, SamplingParams.greedy(), Map.of(), 30, List.of(stop), -1));
            assertThat(stopped.text()).isEqualTo(free.text().substring(0, at));
            assertThat(stopped.done().reason()).isEqualTo(GenerationEvent.FinishReason.STOP);
        }
    }

    @Test
    void cancellingEndsTheSequenceAndFreesItsPlace() throws Exception {
        int[] p = prompt(new SplittableRandom(4), 8);
        try (Scheduler s = new Scheduler(engine, new Scheduler.Options(1, 0, 512, 32), new Scheduler.Listener() {}, "test")) {
            Generation g = s.submit(p, SamplingParams.greedy(), Map.of(), 400, List.of(), -1);
            assertThat(g.take()).isInstanceOf(GenerationEvent.Token.class);
            // the only sequence is busy and the queue holds none
            assertThatThrownBy(() -> s.submit(p, SamplingParams.greedy(), Map.of(), 5, List.of(), -1)).isInstanceOf(Scheduler.Rejected.class);
            g.cancel();
            GenerationEvent e;
            int tokensAfterCancel = 0;
            while (!((e = g.take()) instanceof GenerationEvent.Done)) tokensAfterCancel++;
            assertThat(((GenerationEvent.Done) e).reason()).isEqualTo(GenerationEvent.FinishReason.CANCELLED);
            assertThat(tokensAfterCancel).as("tokens produced after cancel()").isLessThan(400 - 2);
            Outcome next = collect(s.submit(p, SamplingParams.greedy(), Map.of(), 5, List.of(), -1));
            assertThat(next.tokens()).hasSize(5);
        }
    }

    @Test
    void theContextEndsGenerationWithLength() throws Exception {
        int[] p = prompt(new SplittableRandom(6), 50);
        try (Scheduler s = new Scheduler(engine, new Scheduler.Options(1, 0, 64, 32), new Scheduler.Listener() {}, "test")) {
            Outcome o = collect(s.submit(p, SamplingParams.greedy(), Map.of(), 1000, List.of(), -1));
            assertThat(o.done().reason()).isEqualTo(GenerationEvent.FinishReason.LENGTH);
            assertThat(p.length + o.tokens().size()).isEqualTo(65); // the last token is sampled, not run
            assertThatThrownBy(() -> s.submit(prompt(new SplittableRandom(1), 64), SamplingParams.greedy(), Map.of(), 1, List.of(), -1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("context");
        }
    }

    @Test
    void logprobsAreThoseOfTheRawLogits() throws Exception {
        int[] p = prompt(new SplittableRandom(8), 12);
        try (Scheduler s = new Scheduler(engine, new Scheduler.Options(1, 0, 128, 32), new Scheduler.Listener() {}, "test")) {
            Generation g = s.submit(p, SamplingParams.greedy(), Map.of(), 3, List.of(), 5);
            GenerationEvent.Token t = (GenerationEvent.Token) g.take();
            float[] logits = alone.forward(alone.newSequence(128), p).clone();
            dev.freehold.core.sample.Logprobs.Step expected = dev.freehold.core.sample.Logprobs.of(logits, t.id(), 5);
            assertThat(t.logprobs().chosen()).isEqualTo(expected.chosen());
            assertThat(t.logprobs().top()).containsExactly(expected.top());
            assertThat(t.logprobs().top()[0].token()).isEqualTo(t.id()); // greedy picks the most likely
        }
    }
}
