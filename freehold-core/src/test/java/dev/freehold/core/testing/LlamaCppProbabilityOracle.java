package dev.freehold.core.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * llama.cpp's top-n next-token probabilities (de.kherud:llama 3.4.1, copied to target/oracles by the build) for
 * prompts on one model, computed in a child JVM whose class path has 3.4.1 instead of 4.2.0.
 */
public final class LlamaCppProbabilityOracle {
    private LlamaCppProbabilityOracle() {
    }

    /** Per prompt: token piece (as llama.cpp prints it) to probability, for the top {@code n} tokens. */
    public static List<Map<String, Float>> topProbabilities(Path model, List<String> prompts, int n) {
        List<Map<String, Float>> result = new ArrayList<>();
        for (String line : run(model, Integer.toString(n), prompts, "PROBS")) {
            Map<String, Float> probs = new LinkedHashMap<>();
            for (String item : line.trim().split(" ")) {
                if (item.isEmpty()) continue;
                int eq = item.lastIndexOf('=');
                probs.put(new String(Base64.getDecoder().decode(item.substring(0, eq)), StandardCharsets.UTF_8),
                        Float.parseFloat(item.substring(eq + 1)));
            }
            result.add(probs);
        }
        return result;
    }

    /**
     * llama.cpp's mean-pooled, normalised embedding of each text (the model in embedding mode). This older llama.cpp
     * is used because the one in 4.2.0 aborts on mean pooling for decoder models (GGML_ASSERT in ggml_mul_mat).
     */
    public static List<float[]> meanEmbeddings(Path model, List<String> texts) {
        List<float[]> result = new ArrayList<>();
        for (String line : run(model, "embed-mean", texts, "EMBED")) {
            String[] parts = line.trim().split(" ");
            float[] v = new float[parts.length];
            for (int i = 0; i < v.length; i++) v[i] = Float.parseFloat(parts[i]);
            result.add(v);
        }
        return result;
    }

    /** Runs the child JVM over the inputs; returns the text after {@code tag} of each answer line. */
    private static List<String> run(Path model, String mode, List<String> prompts, String tag) {
        Path jar = Path.of("target", "oracles", "llama-3.4.1.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            String msg = "the probability oracle (de.kherud:llama 3.4.1) is not at " + jar + "; run the tests through Maven";
            if (Boolean.getBoolean("freehold.require.oracles")) fail(msg);
            assumeTrue(false, msg);
        }
        String testCp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cp = new ArrayList<>();
        for (String entry : testCp.split(File.pathSeparator)) {
            if (!entry.contains("de/kherud/llama") && !entry.contains("de\\kherud\\llama")) cp.add(entry);
        }
        cp.add(jar.toString());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        try {
            Path log = Files.createTempFile("llama-cpp-probs", ".log");
            Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-cp",
                    String.join(File.pathSeparator, cp), LlamaCppProbabilityMain.class.getName(), model.toString(),
                    mode).redirectError(log.toFile()).start();
            try (OutputStream os = p.getOutputStream()) {
                for (String prompt : prompts) {
                    os.write(("P" + Base64.getEncoder().encodeToString(prompt.getBytes(StandardCharsets.UTF_8)) + "\n").getBytes(StandardCharsets.UTF_8));
                }
            }
            String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("probability oracle timed out");
            }
            List<String> result = new ArrayList<>();
            for (String line : stdout.split("\n")) {
                int at = line.indexOf(tag);
                if (at >= 0) result.add(line.substring(at + tag.length()));
            }
            if (result.size() != prompts.size()) {
                String e = Files.exists(log) ? Files.readString(log) : "(no log)";
                throw new IllegalStateException("probability oracle answered %d of %d prompts: %s"
                        .formatted(result.size(), prompts.size(), e.substring(Math.max(0, e.length() - 2000))));
            }
            Files.deleteIfExists(log);
            return result;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
