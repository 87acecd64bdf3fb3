package dev.freehold.server;

import static dev.freehold.server.TestServer.json;
import static dev.freehold.server.TestServer.sseData;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bounded load on loopback: 32 concurrent streaming clients against 8 sequences and a queue of 16. Every accepted
 * request must produce the text it produces alone, the others must get 429, nothing may hang, and the server's
 * memory must stay flat over 500 requests.
 */
class LoadTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = new TestServer(Map.of("random", TestModels.randomLlama()), 8, 16, 512, Set.of(), 1 << 20);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static String body(int i, int maxTokens, boolean stream) {
        return "{\"model\":\"random\",\"temperature\":0,\"max_tokens\":" + maxTokens + ",\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"Request number " + i + ": " + "tell me more ".repeat(1 + i % 5) + "\"}]}";
    }

    static String streamedText(String sse) {
        StringBuilder text = new StringBuilder();
        List<String> data = sseData(sse);
        assertThat(data.getLast()).isEqualTo("[DONE]");
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode delta = json(d).get("choices").get(0).get("delta");
            if (delta.has("content")) text.append(delta.get("content").asText());
        }
        return text.toString();
    }

    @Test
    void thirtyTwoStreamsAgainstEightSequencesAndAQueueOfSixteen() throws Exception {
        int clients = 32;
        int tokens = 160;
        String[] alone = new String[clients];
        for (int i = 0; i < clients; i++) {
            alone[i] = json(server.post("/v1/chat/completions", body(i, tokens, false)).body()).get("choices").get(0).get("message").get("content").asText();
        }
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        List<Future<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            int k = i;
            futures.add(pool.submit(() -> {
                go.await();
                return server.post("/v1/chat/completions", body(k, tokens, true));
            }));
        }
        go.countDown();
        int accepted = 0;
        int rejected = 0;
        for (int i = 0; i < clients; i++) {
            HttpResponse<String> r = futures.get(i).get(3, TimeUnit.MINUTES); // nothing hangs
            if (r.statusCode() == 200) {
                accepted++;
                assertThat(streamedText(r.body())).as("client %d, batched", i).isEqualTo(alone[i]);
            } else {
                rejected++;
                assertThat(r.statusCode()).isEqualTo(429);
                assertThat(r.headers().firstValue("Retry-After")).isPresent();
                assertThat(json(r.body()).get("error").get("code").asText()).isEqualTo("rate_limit_exceeded");
            }
        }
        pool.shutdown();
        System.out.printf("load: %d clients, %d accepted (all identical to alone), %d refused with 429%n", clients, accepted, rejected);
        assertThat(accepted).as("8 running + 16 queued are accepted").isGreaterThanOrEqualTo(24);
        assertThat(rejected).as("the rest are refused").isPositive();
        assertThat(accepted + rejected).isEqualTo(clients);
        awaitIdle();
    }

    @Test
    void aClientThatDisconnectsCancelsItsSequence() throws Exception {
        // A model slow enough that 4000 tokens take seconds; EOS banned so only the disconnect can end it early.
        try (TestServer slow = new TestServer(Map.of("long", TestModels.randomLlamaLongContext()), 1, 1, 4096, Set.of(), 1 << 20)) {
            HttpClient http = HttpClient.newHttpClient();
            String req = "{\"model\":\"long\",\"temperature\":0,\"max_tokens\":4000,\"stream\":true,\"logit_bias\":{\"2\":-100},"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"go on\"}]}";
            HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(slow.base() + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(req)).build(), HttpResponse.BodyHandlers.ofInputStream());
            InputStream in = r.body();
            in.readNBytes(3000); // some chunks have arrived: the sequence is generating
            var scheduler = slow.service.model("long").scheduler();
            assertThat(scheduler.activeCount()).isEqualTo(1);
            long t0 = System.nanoTime();
            in.close();
            http.close();
            while (scheduler.activeCount() > 0 && System.nanoTime() - t0 < 10_000_000_000L) Thread.sleep(5);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("disconnect: the sequence ended %d ms after the client closed%n", ms);
            assertThat(scheduler.activeCount()).isZero();
            assertThat(slow.get("/metrics").body())
                    .contains("freehold_sequences_finished_total{model=\"long\",reason=\"cancelled\"} 1.0")
                    .doesNotContain("reason=\"length\"");
        }
    }

    @Test
    void memoryStaysFlatOverFiveHundredRequests() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        long[] used = new long[6];
        for (int round = 0; round < 5; round++) {
            List<Future<Integer>> f = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                int k = round * 100 + i;
                f.add(pool.submit(() -> server.post("/v1/chat/completions", body(k, 12, k % 2 == 0)).statusCode()));
            }
            for (Future<Integer> x : f) assertThat(x.get(2, TimeUnit.MINUTES)).isEqualTo(200);
            used[round + 1] = usedHeapAfterGc();
        }
        pool.shutdown();
        // after the first 100 (warm-up: code, caches, the sequences' KV buffers) the heap does not grow
        long growth = used[5] - used[1];
        System.out.printf("heap after GC at requests 100..500 (MiB): %s%n", java.util.Arrays.stream(used, 1, 6)
                .mapToObj(u -> String.format("%.1f", u / 1048576.0)).toList());
        assertThat(growth).as("heap growth from request 100 to 500: %d KiB", growth / 1024).isLessThan(16L << 20);
    }

    static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static void awaitIdle() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        var scheduler = server.service.model("random").scheduler();
        while ((scheduler.activeCount() > 0 || scheduler.waitingCount() > 0) && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(scheduler.activeCount()).as("sequences still active").isZero();
        assertThat(scheduler.waitingCount()).isZero();
    }
}
