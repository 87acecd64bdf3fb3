package dev.freehold.core.embed;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.freehold.core.infer.BertEncoder;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.util.ProgressListener;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bundled all-MiniLM-L6-v2 against ONNX Runtime running the same ONNX file (LangChain4j's
 * {@code AllMiniLmL6V2EmbeddingModel}) and against Hugging Face's tokenizer (through DJL) on its tokenizer.json.
 */
class BertEmbeddingParityTest {
    static Path home;
    static BertEncoder encoder;
    static AllMiniLmL6V2EmbeddingModel reference;

    @BeforeAll
    static void load() throws Exception {
        home = Files.createTempDirectory("freehold-home");
        System.setProperty("freehold.home", home.toString());
        Path gguf = BundledEmbeddingModels.gguf("all-minilm", ProgressListener.NONE).orElseThrow();
        encoder = BertEncoder.load(gguf, EngineOptions.defaults().withThreads(2));
        reference = new AllMiniLmL6V2EmbeddingModel();
    }

    @AfterAll
    static void close() {
        encoder.close();
        System.clearProperty("freehold.home");
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void theBundledModelIsConvertedOnceToGguf() throws Exception {
        Path gguf = home.resolve("models/all-minilm.gguf");
        assertThat(gguf).isRegularFile();
        long modified = Files.getLastModifiedTime(gguf).toMillis();
        assertThat(BundledEmbeddingModels.gguf("all-minilm", ProgressListener.NONE)).contains(gguf);
        assertThat(Files.getLastModifiedTime(gguf).toMillis()).isEqualTo(modified);
        assertThat(encoder.dimension()).isEqualTo(384);
        assertThat(encoder.defaultPooling()).isEqualTo(BertEncoder.Pooling.MEAN);
    }

    @Test
    void wordPieceIdsEqualHuggingFaceTokenizers() throws Exception {
        Path tokJson = home.resolve("tokenizer.json");
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, tokJson);
        }
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(tokJson, Map.of("padding", "false", "truncation", "false"))) {
            int mismatches = 0;
            List<String> sentences = EmbeddingSentences.sentences(300);
            for (String s : sentences) {
                long[] expected = hf.encode(s).getIds();
                int[] ours = encoder.tokenizer().encode(s, true, false);
                if (!Arrays.equals(Arrays.stream(ours).asLongStream().toArray(), expected)) {
                    mismatches++;
                    System.out.printf("token ids differ for %s:%n  ours %s%n  hf   %s%n", s, Arrays.toString(ours), Arrays.toString(expected));
                }
            }
            assertThat(mismatches).as("sentences whose ids differ from Hugging Face's").isZero();
        }
    }

    @Test
    void embeddingsMatchOnnxRuntime() {
        List<String> sentences = EmbeddingSentences.sentences(300);
        List<int[]> tokens = new ArrayList<>();
        for (String s : sentences) tokens.add(encoder.tokenize(s).ids());
        // in batches of 32, as a server would
        double worst = 1;
        String worstText = null;
        for (int from = 0; from < sentences.size(); from += 32) {
            List<int[]> batch = tokens.subList(from, Math.min(sentences.size(), from + 32));
            float[][] ours = encoder.embed(batch, BertEncoder.Pooling.MEAN, true);
            for (int i = 0; i < batch.size(); i++) {
                String s = sentences.get(from + i);
                if (s.isBlank()) continue; // LangChain4j refuses blank text
                float[] ref = reference.embed(s).content().vector();
                double c = cosine(ours[i], ref);
                if (c < worst) {
                    worst = c;
                    worstText = s;
                }
            }
        }
        System.out.printf("all-minilm: lowest cosine similarity to ONNX Runtime over %d sentences: %.7f (%s)%n",
                sentences.size(), worst, worstText);
        assertThat(worst).as("lowest cosine, for: %s", worstText).isGreaterThanOrEqualTo(0.9999);
    }

    /** The converted GGUF is llama.cpp's bert architecture: llama.cpp loads it and embeds the same vectors. */
    @Test
    void llamaCppEmbedsTheConvertedFileAlike() {
        List<String> sentences = EmbeddingSentences.sentences(24).stream().filter(s -> !s.isBlank() && s.length() < 200).toList();
        List<float[]> reference = dev.freehold.core.testing.LlamaCppOracle.embed(encoder.path(), "MEAN", sentences);
        double worst = 1;
        for (int i = 0; i < sentences.size(); i++) {
            float[] ours = encoder.embed(List.of(encoder.tokenize(sentences.get(i)).ids()), BertEncoder.Pooling.MEAN, true)[0];
            worst = Math.min(worst, cosine(ours, reference.get(i)));
        }
        System.out.printf("all-minilm GGUF: lowest cosine similarity to llama.cpp over %d sentences: %.7f%n", sentences.size(), worst);
        assertThat(worst).isGreaterThanOrEqualTo(0.9999);
    }

    @Test
    void aBatchGivesTheSameVectorsAsOneByOne() {
        List<String> sentences = EmbeddingSentences.sentences(40);
        List<int[]> tokens = sentences.stream().map(s -> encoder.tokenize(s).ids()).toList();
        float[][] batch = encoder.embed(tokens, BertEncoder.Pooling.MEAN, true);
        for (int i = 0; i < tokens.size(); i++) {
            float[] alone = encoder.embed(List.of(tokens.get(i)), BertEncoder.Pooling.MEAN, true)[0];
            assertThat(batch[i]).as("input %d", i).containsExactly(alone);
        }
    }

    /** Requests of many tokens run in bounded groups: the vectors are those of each input alone. */
    @Test
    void largeRequestsRunInGroupsWithTheSameVectors() {
        List<int[]> tokens = new ArrayList<>();
        for (int i = 0; i < 50; i++) tokens.add(encoder.tokenize(("word" + i + " ").repeat(60)).ids());
        assertThat(tokens.stream().mapToInt(t -> t.length).sum()).isGreaterThan(BertEncoder.MAX_GROUP_TOKENS);
        float[][] all = encoder.embed(tokens, BertEncoder.Pooling.MEAN, true);
        for (int i = 0; i < tokens.size(); i += 7) {
            assertThat(all[i]).containsExactly(encoder.embed(List.of(tokens.get(i)), BertEncoder.Pooling.MEAN, true)[0]);
        }
    }

    @Test
    void paraphrasesAreCloserThanUnrelatedSentences() {
        String[][] pairs = {
                {"The patient was discharged from the hospital on Monday.", "On Monday the patient left the hospital."},
                {"How do I reset my online banking password?", "I forgot the password for my bank account website."},
                {"The train to Vienna is delayed by forty minutes.", "There is a 40-minute delay on the Vienna train."},
                {"Java virtual threads make blocking I/O cheap.", "With virtual threads in Java, blocking calls cost little."},
                {"It is raining heavily in the city centre.", "Downtown is getting a lot of rain right now."}};
        for (int i = 0; i < pairs.length; i++) {
            float[][] e = encoder.embed(List.of(encoder.tokenize(pairs[i][0]).ids(), encoder.tokenize(pairs[i][1]).ids(),
                    encoder.tokenize(pairs[(i + 1) % pairs.length][1]).ids()), BertEncoder.Pooling.MEAN, true);
            double para = cosine(e[0], e[1]);
            double unrelated = cosine(e[0], e[2]);
            assertThat(para).as("pair %d: paraphrase %.3f vs unrelated %.3f", i, para, unrelated).isGreaterThan(unrelated + 0.2);
        }
    }

    @Test
    void longInputsAreTruncatedToTheContextWithTheirSep() {
        BertEncoder.Tokens t = encoder.tokenize("word ".repeat(1000));
        assertThat(t.truncated()).isTrue();
        assertThat(t.ids()).hasSize(encoder.maxTokens());
        assertThat(t.ids()[t.ids().length - 1]).isEqualTo(102);
        assertThat(encoder.tokenize("short").truncated()).isFalse();
    }
}
