package dev.freehold.core.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.LogFormat;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The llama.cpp oracle process (de.kherud:llama, which embeds llama.cpp). Runs in its own JVM, started by
 * {@link LlamaCppOracle}, because the native library can abort or hang the JVM that loads it.
 *
 * <p>Reads one JSON request per line on stdin, answers one JSON line per request on stdout prefixed with
 * {@code ORACLE }: {@code {"op":"complete","model":PATH,"prompt":S,"n":N}} gives {@code {"text":S,"tokens":[...]}}
 * (greedy, temperature 0; tokens are llama.cpp's encoding of the generated text), and
 * {@code {"op":"encode","model":PATH,"text":S}} gives {@code {"tokens":[...]}} (no BOS added, special tokens parsed),
 * {@code {"op":"decode","model":PATH,"ids":[...]}} gives {@code {"text":S}}, and
 * {@code {"op":"template","model":PATH,"template":S,"messages":[...]}} gives {@code {"text":S}}: the messages rendered
 * by llama.cpp's Jinja engine with that chat template and a generation prompt, and
 * {@code {"op":"embed","model":PATH,"pooling":"MEAN"|"LAST"|"CLS","text":S}} gives {@code {"embedding":[...]}} (the
 * model loaded in embedding mode), and {@code {"op":"schema","schema":{...}}} gives {@code {"grammar":S}}, llama.cpp's
 * GBNF for that JSON schema. Errors answer {@code {"error":S}}.
 * Exits with {@link Runtime#halt} so that the library's close() never runs.
 */
public final class LlamaCppOracleMain {
    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        // llama.cpp logs to stdout/stderr from native code; keep our answers distinguishable by prefix.
        LlamaModel.setLogger(LogFormat.TEXT, (level, msg) -> { });
        ObjectMapper json = new ObjectMapper();
        Map<String, LlamaModel> models = new HashMap<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) continue;
            ObjectNode answer = json.createObjectNode();
            try {
                JsonNode req = json.readTree(line);
                if (req.get("op").asText().equals("schema")) {
                    answer.put("grammar", LlamaModel.jsonSchemaToGrammar(req.get("schema").toString()));
                    out.println("ORACLE " + json.writeValueAsString(answer));
                    continue;
                }
                String modelPath = req.get("model").asText();
                String template = req.path("template").asText(null);
                String pooling = req.path("pooling").asText(null);
                LlamaModel model = models.computeIfAbsent(modelPath + "\u0000" + template + "\u0000" + pooling, key -> {
                    ModelParameters mp = new ModelParameters().setModel(modelPath).setCtxSize(req.path("ctx").asInt(512))
                            .setThreads(1).setThreadsBatch(1).setGpuLayers(0).skipWarmup();
                    if (template != null) mp.enableJinja().setChatTemplate(template);
                    if (pooling != null) mp.enableEmbedding().setPoolingType(de.kherud.llama.args.PoolingType.valueOf(pooling));
                    return new LlamaModel(mp);
                });
                switch (req.get("op").asText()) {
                    case "complete" -> {
                        InferenceParameters ip = new InferenceParameters(req.get("prompt").asText())
                                .setTemperature(0f).setNPredict(req.get("n").asInt()).setSeed(42)
                                .setCachePrompt(false).setRepeatPenalty(1f);
                        String text = model.complete(ip);
                        answer.put("text", text);
                        var tokens = answer.putArray("tokens");
                        for (int t : model.encode(text)) tokens.add(t);
                    }
                    case "encode" -> {
                        var tokens = answer.putArray("tokens");
                        for (int t : model.encode(req.get("text").asText())) tokens.add(t);
                    }
                    case "template" -> {
                        var params = json.createObjectNode();
                        params.set("messages", req.get("messages"));
                        if (req.has("tools")) params.set("tools", req.get("tools"));
                        answer.put("text", model.applyTemplate(params.toString()));
                    }
                    case "decode" -> {
                        int[] ids = new int[req.get("ids").size()];
                        for (int i = 0; i < ids.length; i++) ids[i] = req.get("ids").get(i).asInt();
                        answer.put("text", model.decode(ids));
                    }
                    case "embed" -> {
                        var v = answer.putArray("embedding");
                        for (float f : model.embed(req.get("text").asText())) v.add(f);
                    }
                    default -> answer.put("error", "unknown op " + req.get("op"));
                }
            } catch (Throwable e) {
                answer.put("error", String.valueOf(e));
            }
            out.println("ORACLE " + json.writeValueAsString(answer));
        }
        out.flush();
        Runtime.getRuntime().halt(0);
    }
}
