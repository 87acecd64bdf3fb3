package dev.freehold.core.infer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.freehold.core.format.synthetic.RandomLlamaModel;
import dev.freehold.core.sample.Sampler;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.util.ProgressListener;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same prompt gives the same bits on every run in one JVM: the first runs are interpreted, later ones compiled
 * by C1 and then C2, so any operation whose result depends on how it was compiled shows up here (a fixed seed must
 * give the same text every time).
 */
class DeterminismTest {

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_K", "F16"})
    void repeatedRunsGiveTheSameBitsWhileTheJitCompiles(GgmlType type, @TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("m.gguf");
        RandomLlamaModel.write(f, new RandomLlamaModel.Shape(512, 1024, 2, 8, 2, 400, 512, false), type, 12, ProgressListener.NONE);
        Random r = new Random(3);
        int[] prompt = new int[70];
        for (int k = 0; k < prompt.length; k++) prompt[k] = 3 + r.nextInt(390);
        try (Engine e = Engine.load(f, new EngineOptions(2, EngineOptions.KvCacheType.F16))) {
            float[] firstPrompt = null;
            float[] firstDecode = null;
            for (int run = 0; run < 40; run++) {
                Sequence s = e.newSequence(128);
                float[] logits = e.forwardPrompt(s, prompt).clone();
                if (firstPrompt == null) firstPrompt = logits;
                assertThat(logits).as("%s run %d: logits after the prompt", type, run).containsExactly(firstPrompt);
                for (int k = 0; k < 8; k++) logits = e.forward(s, Sampler.argmax(logits));
                if (firstDecode == null) firstDecode = logits.clone();
                assertThat(logits).as("%s run %d: logits after 8 decoded tokens", type, run).containsExactly(firstDecode);
            }
        }
    }

    /** A prompt continued on a reused, truncated cache gives the bits of the prompt run on a fresh sequence. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0"})
    void promptAfterAReusedPrefixEqualsAFreshRun(GgmlType type, @TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("m.gguf");
        RandomLlamaModel.write(f, new RandomLlamaModel.Shape(512, 1024, 4, 8, 2, 400, 4096, false), type, 12, ProgressListener.NONE);
        Random r = new Random(4);
        int[] prompt = new int[120];
        for (int k = 0; k < prompt.length; k++) prompt[k] = 3 + r.nextInt(390);
        try (Engine e = Engine.load(f, new EngineOptions(2, EngineOptions.KvCacheType.F16))) {
            float[] fresh = e.forwardPrompt(e.newSequence(512), prompt).clone();
            Sequence s = e.newSequence(512);
            int[] other = java.util.Arrays.copyOf(prompt, 90);
            for (int k = 71; k < 90; k++) other[k] = 5 + k;
            float[] logits = e.forwardPrompt(s, other);
            for (int k = 0; k < 6; k++) logits = e.forward(s, Sampler.argmax(logits));
            s.truncate(71);
            float[] reused = null;
            for (int from = 71; from < prompt.length; from += 32) {
                reused = e.forwardPrompt(s, java.util.Arrays.copyOfRange(prompt, from, Math.min(prompt.length, from + 32)));
            }
            assertThat(reused).containsExactly(fresh);
        }
    }
}
