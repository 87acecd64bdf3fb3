package dev.freehold.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.freehold.core.infer.Engine;
import dev.freehold.core.infer.EngineOptions;
import dev.freehold.core.infer.Generator;
import dev.freehold.core.sample.SamplingParams;
import dev.freehold.server.FreeholdServer;
import dev.freehold.server.GenerationService;
import dev.freehold.server.ServedModel;
import dev.freehold.server.ServerMetrics;
import dev.freehold.server.ServerOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * End-to-end serving throughput: the engine alone (one sequence, no HTTP) against {@code freehold serve} in-process
 * with 1, 2, 4 and 8 concurrent streaming clients. Every request generates exactly {@code tokens} tokens (greedy,
 * end-of-generation banned) after a short prompt. Reports aggregate generated tokens/s, its ratio to the engine
 * alone, and the median time to first token.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -cp benchmarks.jar dev.freehold.bench.ServerThroughput
 * MODEL.gguf [tokens=64] [threads=2] [rounds=2]}
 */
public final class ServerThroughput {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        int[] concurrency = {1, 2, 4, 8};

        double alone;
        try (Engine engine = Engine.load(model, new EngineOptions(threads, EngineOptions.KvCacheType.F32))) {
            int[] prompt = engine.tokenizer().encode("Request 0: tell me more about the mountains", true, false);
            Generator.generate(engine, prompt, 8, 512, SamplingParams.greedy(), t -> { }); // warm-up
            double[] tps = new double[3];
            for (int i = 0; i < tps.length; i++) {
                tps[i] = Generator.generate(engine, prompt, tokens, 512, SamplingParams.greedy(), t -> { }).generationTokensPerSecond();
            }
            Arrays.sort(tps);
            alone = tps[1];
        }
        System.out.printf(Locale.ROOT, "engine alone (Generator, 1 sequence): %.1f tok/s%n", alone);

        ServerMetrics metrics = new ServerMetrics();
        ServedModel served = ServedModel.load("bench", model, new EngineOptions(threads, EngineOptions.KvCacheType.F32), "chatml",
                8, 64, 512, 32, metrics.forModel("bench"));
        GenerationService service = new GenerationService(List.of(served), new GenerationService.Limits(8192, 64, 8));
        try (FreeholdServer server = FreeholdServer.start(service,
                new dev.freehold.server.EmbeddingService(java.util.Map.of(), false, EngineOptions.defaults(), 1), metrics, new ServerOptions("127.0.0.1", 0, Set.of(), 1 << 20));
             HttpClient http = HttpClient.newHttpClient();
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            String url = "http://127.0.0.1:" + server.port() + "/v1/completions";
            request(http, url, 0, 8); // warm-up
            System.out.println("| clients | aggregate tok/s | per client tok/s | vs engine alone | median TTFT ms |");
            System.out.println("|---:|---:|---:|---:|---:|");
            for (int c : concurrency) {
                double best = 0;
                double[] bestTtft = null;
                for (int round = 0; round < rounds; round++) {
                    List<Future<double[]>> fs = new ArrayList<>();
                    long t0 = System.nanoTime();
                    for (int i = 0; i < c; i++) {
                        int k = i;
                        fs.add(pool.submit(() -> request(http, url, k, tokens)));
                    }
                    int total = 0;
                    double[] ttft = new double[c];
                    for (int i = 0; i < c; i++) {
                        double[] r = fs.get(i).get();
                        total += (int) r[0];
                        ttft[i] = r[1];
                    }
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    double agg = total / seconds;
                    if (agg > best) {
                        best = agg;
                        bestTtft = ttft;
                    }
                }
                Arrays.sort(bestTtft);
                System.out.printf(Locale.ROOT, "| %d | %.1f | %.1f | %.2fx | %.0f |%n", c, best, best / c, best / alone, bestTtft[c / 2]);
            }
        } finally {
            service.close();
        }
    }

    /** One streaming completion; returns {completion tokens, ms to first token}. */
    private static double[] request(HttpClient http, String url, int k, int tokens) throws Exception {
        String body = "{\"model\":\"bench\",\"prompt\":\"Request " + k + ": tell me more about the mountains\",\"max_tokens\":" + tokens
                + ",\"temperature\":0,\"stream\":true,\"stream_options\":{\"include_usage\":true},\"logit_bias\":{\"2\":-100,\"128001\":-100,\"128009\":-100}}";
        long t0 = System.nanoTime();
        HttpResponse<java.io.InputStream> r = http.send(HttpRequest.newBuilder(URI.create(url))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) throw new IllegalStateException("HTTP " + r.statusCode() + ": " + new String(r.body().readAllBytes(), StandardCharsets.UTF_8));
        double ttft = -1;
        int completion = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.startsWith("data: ") || line.equals("data: [DONE]")) continue;
                JsonNode chunk = JSON.readTree(line.substring(6));
                if (ttft < 0 && chunk.path("choices").size() > 0) ttft = (System.nanoTime() - t0) / 1e6;
                if (chunk.hasNonNull("usage")) completion = chunk.get("usage").get("completion_tokens").asInt();
            }
        }
        return new double[] {completion, ttft};
    }
}
