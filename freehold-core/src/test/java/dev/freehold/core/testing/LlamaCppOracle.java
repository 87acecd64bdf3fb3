package dev.freehold.core.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Asks llama.cpp (de.kherud:llama, test scope) about model files, in a forked JVM: see {@link LlamaCppOracleMain}.
 * Requests are batched so that one JVM start serves many files.
 */
public final class LlamaCppOracle {
    private static final ObjectMapper JSON = new ObjectMapper();

    private LlamaCppOracle() {
    }

    /** One greedy completion as llama.cpp produced it. */
    public record Completion(String text, int[] tokens) {
    }

    /** Greedy completions of {@code prompt} ({@code n} tokens) for each model, in order. */
    public static List<Completion> complete(List<Path> models, String prompt, int n) {
        List<String> requests = new ArrayList<>();
        for (Path m : models) {
            requests.add(JSON.createObjectNode().put("op", "complete").put("model", m.toAbsolutePath().toString())
                    .put("prompt", prompt).put("n", n).toString());
        }
        List<Completion> result = new ArrayList<>();
        for (JsonNode a : run(requests)) {
            if (a.has("error")) throw new IllegalStateException("llama.cpp: " + a.get("error").asText());
            int[] tokens = new int[a.get("tokens").size()];
            for (int i = 0; i < tokens.length; i++) tokens[i] = a.get("tokens").get(i).asInt();
            result.add(new Completion(a.get("text").asText(), tokens));
        }
        return result;
    }

    /** llama.cpp's token ids for each text (no BOS added), from one model. */
    public static List<int[]> encode(Path model, List<String> texts) {
        List<String> requests = new ArrayList<>();
        for (String t : texts) {
            requests.add(JSON.createObjectNode().put("op", "encode").put("model", model.toAbsolutePath().toString())
                    .put("text", t).toString());
        }
        List<int[]> result = new ArrayList<>();
        for (JsonNode a : run(requests)) {
            if (a.has("error")) throw new IllegalStateException("llama.cpp: " + a.get("error").asText());
            int[] tokens = new int[a.get("tokens").size()];
            for (int i = 0; i < tokens.length; i++) tokens[i] = a.get("tokens").get(i).asInt();
            result.add(tokens);
        }
        return result;
    }

    /** llama.cpp's embedding of each text with the given pooling (MEAN, LAST, CLS), from one model. */
    public static List<float[]> embed(Path model, String pooling, List<String> texts) {
        List<String> requests = new ArrayList<>();
        for (String t : texts) {
            requests.add(JSON.createObjectNode().put("op", "embed").put("model", model.toAbsolutePath().toString())
                    .put("pooling", pooling).put("text", t).toString());
        }
        List<float[]> result = new ArrayList<>();
        for (JsonNode a : run(requests)) {
            if (a.has("error")) throw new IllegalStateException("llama.cpp: " + a.get("error").asText());
            float[] v = new float[a.get("embedding").size()];
            for (int i = 0; i < v.length; i++) v[i] = a.get("embedding").get(i).floatValue();
            result.add(v);
        }
        return result;
    }

    /** llama.cpp's GBNF grammar for each JSON schema (its json-schema-to-grammar); an error text starts with "error: ". */
    public static List<String> schemaGrammars(List<JsonNode> schemas) {
        List<String> requests = new ArrayList<>();
        for (JsonNode s : schemas) {
            var r = JSON.createObjectNode().put("op", "schema");
            r.set("schema", s);
            requests.add(r.toString());
        }
        List<String> result = new ArrayList<>();
        for (JsonNode a : run(requests)) result.add(a.has("error") ? "error: " + a.get("error").asText() : a.get("grammar").asText());
        return result;
    }

    /** llama.cpp's text for each id sequence, from one model. */
    public static List<String> decode(Path model, List<int[]> idLists) {
        List<String> requests = new ArrayList<>();
        for (int[] ids : idLists) {
            var req = JSON.createObjectNode().put("op", "decode").put("model", model.toAbsolutePath().toString());
            var arr = req.putArray("ids");
            for (int id : ids) arr.add(id);
            requests.add(req.toString());
        }
        List<String> result = new ArrayList<>();
        for (JsonNode a : run(requests)) {
            if (a.has("error")) throw new IllegalStateException("llama.cpp: " + a.get("error").asText());
            result.add(a.get("text").asText());
        }
        return result;
    }

    /** llama.cpp's rendering (Jinja engine, generation prompt added) of each message list with a chat template. */
    public static List<JsonNode> renderTemplate(Path model, String template, List<JsonNode> messageLists) {
        return renderTemplate(model, template, messageLists, null);
    }

    /** As above, with OpenAI-shaped {@code tools} given to the template (null: none). */
    public static List<JsonNode> renderTemplate(Path model, String template, List<JsonNode> messageLists, JsonNode tools) {
        List<String> requests = new ArrayList<>();
        for (JsonNode messages : messageLists) {
            var req = JSON.createObjectNode().put("op", "template").put("model", model.toAbsolutePath().toString()).put("template", template);
            req.set("messages", messages);
            if (tools != null) req.set("tools", tools);
            requests.add(req.toString());
        }
        return run(requests);
    }

    /**
     * Raw answers (possibly {@code {"error":...}}) to raw requests. llama.cpp aborts its process on some errors (a
     * template that raises one, for example): the request it died on is answered with an error, and the rest go to a
     * fresh process.
     */
    public static List<JsonNode> run(List<String> requests) {
        List<JsonNode> answers = new ArrayList<>();
        int crashes = 0;
        while (answers.size() < requests.size()) {
            List<JsonNode> batch = runOnce(requests.subList(answers.size(), requests.size()));
            answers.addAll(batch);
            if (answers.size() < requests.size()) {
                if (++crashes > 20) throw new IllegalStateException("llama.cpp oracle keeps dying");
                answers.add(JSON.createObjectNode().put("error", "llama.cpp aborted on this request"));
            }
        }
        return answers;
    }

    /** One oracle process: the answers it gave before it exited (all of them unless it crashed). */
    private static List<JsonNode> runOnce(List<String> requests) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        if (!cp.contains("llama")) {
            String msg = "the llama.cpp oracle (de.kherud:llama) is not on the test class path";
            if (Boolean.getBoolean("freehold.require.oracles")) fail(msg);
            assumeTrue(false, msg);
        }
        try {
            // llama.cpp logs a lot; its log goes to a file so that no pipe can fill up and stall the child.
            Path log = Files.createTempFile("llama-cpp-oracle", ".log");
            Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-cp", cp,
                    LlamaCppOracleMain.class.getName()).redirectError(log.toFile()).start();
            Thread writer = Thread.ofVirtual().start(() -> {
                try (OutputStream os = p.getOutputStream()) {
                    for (String r : requests) os.write((r + "\n").getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    // the child died; the missing answers are reported below
                }
            });
            String stdout = readAll(p.getInputStream());
            writer.join();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("llama.cpp oracle timed out");
            }
            List<JsonNode> answers = new ArrayList<>();
            for (String line : stdout.split("\n")) {
                int at = line.indexOf("ORACLE {");
                if (at >= 0) answers.add(JSON.readTree(line.substring(at + 7)));
            }
            if (answers.size() != requests.size() && p.exitValue() == 0) {
                String e = Files.exists(log) ? Files.readString(log) : "(no log)";
                throw new IllegalStateException("llama.cpp oracle answered %d of %d requests: %s"
                        .formatted(answers.size(), requests.size(), e.substring(Math.max(0, e.length() - 2000))));
            }
            Files.deleteIfExists(log);
            return answers;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String readAll(InputStream in) {
        try (in) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            return b.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
