package dev.freehold.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.LogFormat;
import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.format.hf.HfTokenizerConverter;
import dev.freehold.core.format.synthetic.RandomLlamaModel;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.tokenizer.Tokenizer;
import dev.freehold.core.tokenizer.Tokenizers;
import dev.freehold.core.util.ProgressListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Encoding 1 MB of text: Freehold's tokenizer against llama.cpp's (de.kherud:llama) on the same vocabulary in the
 * same run. Vocabularies: Llama 3 (byte-level BPE, from the shared tokenizer.json) and Llama 2 (SentencePiece, from
 * the shared tiny random Llama 2 GGUF). The text is the shared Llama 3 reference texts (hand-written edge cases and
 * excerpts of real text files) shuffled and repeated to 1 MiB. One operation encodes the whole text.
 *
 * <p>Run: {@code java -Dfreehold.shared.data=../shared/data -jar freehold-bench/target/benchmarks.jar TokenizerBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
public class TokenizerBenchmark {
    @Param({"llama3-bpe", "llama2-spm"})
    public String vocab;

    private String text;
    private Tokenizer freehold;
    private LlamaModel llamaCpp;
    private Path tmp;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Path shared = Path.of(System.getProperty("freehold.shared.data", "../shared/data"));
        text = oneMebibyteOfText(shared);
        tmp = Files.createTempDirectory("freehold-bench");
        Path model;
        if (vocab.equals("llama3-bpe")) {
            // A tiny random model carrying the real Llama 3 vocabulary, so llama.cpp can load it.
            ObjectMapper json = new ObjectMapper();
            Path tj = shared.resolve("tokenizer-llama3-hf/tokenizer.json");
            var md = HfTokenizerConverter.convert(tj, json.readTree(tj.toFile()),
                    json.readTree(shared.resolve("tokenizer-llama3-hf/tokenizer_config.json").toFile()), json.createObjectNode(), 128256).metadata();
            model = tmp.resolve("llama3-vocab.gguf");
            RandomLlamaModel.write(model, new RandomLlamaModel.Shape(32, 64, 1, 2, 1, 128256, 512, true), GgmlType.F16, 1, md,
                    ProgressListener.NONE);
        } else {
            model = shared.resolve("gguf-tiny-random-llama2/llama-2-tiny-random.gguf");
        }
        try (GgufFile g = GgufFile.open(model)) {
            freehold = Tokenizers.fromGguf(g);
        }
        LlamaModel.setLogger(LogFormat.TEXT, (level, msg) -> { });
        llamaCpp = new LlamaModel(new ModelParameters().setModel(model.toString()).setCtxSize(512).setThreads(1).skipWarmup());
        int ours = freehold.encode(text, false, true).length;
        int theirs = llamaCpp.encode(text).length;
        System.out.printf("%n%s: %d bytes of text, %d tokens (llama.cpp: %d)%n", vocab, text.getBytes().length, ours, theirs);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        // de.kherud's close() can hang; the forked JVM exits when the trial ends.
        System.out.flush();
    }

    static String oneMebibyteOfText(Path shared) throws Exception {
        JsonNode refs = new ObjectMapper().readTree(shared.resolve("tokenizer-llama3-hf/reference-encodings.json").toFile());
        List<String> texts = new ArrayList<>();
        refs.forEach(r -> texts.add(r.get("text").asText()));
        Random rnd = new Random(1);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < (1 << 20)) {
            Collections.shuffle(texts, rnd);
            for (String t : texts) sb.append(t).append('\n');
        }
        return sb.substring(0, 1 << 20);
    }

    @Benchmark
    public void freehold(Blackhole bh) {
        bh.consume(freehold.encode(text, false, true));
    }

    @Benchmark
    public void llamaCpp(Blackhole bh) {
        bh.consume(llamaCpp.encode(text));
    }
}
