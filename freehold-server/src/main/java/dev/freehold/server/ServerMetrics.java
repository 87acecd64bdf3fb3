package dev.freehold.server;

import dev.freehold.server.generation.GenerationEvent;
import dev.freehold.server.generation.Scheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The server's Prometheus metrics (Micrometer): requests, tokens, queue, time to first token, speed. */
public final class ServerMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConcurrentHashMap<String, AtomicInteger[]> queues = new ConcurrentHashMap<>();

    public String scrape() {
        return registry.scrape();
    }

    public void request(String endpoint, int status, long nanos) {
        Counter.builder("freehold_requests").description("HTTP requests by endpoint and status")
                .tag("endpoint", endpoint).tag("status", Integer.toString(status)).register(registry).increment();
        Timer.builder("freehold_request_duration").tag("endpoint", endpoint).register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A listener for one model's scheduler. */
    public Scheduler.Listener forModel(String model) {
        AtomicInteger[] q = queues.computeIfAbsent(model, m -> new AtomicInteger[] {new AtomicInteger(), new AtomicInteger()});
        Gauge.builder("freehold_queue_depth", q[0], AtomicInteger::get).description("requests waiting for a sequence")
                .tag("model", model).register(registry);
        Gauge.builder("freehold_active_sequences", q[1], AtomicInteger::get).description("sequences generating")
                .tag("model", model).register(registry);
        Counter promptTokens = Counter.builder("freehold_prompt_tokens").description("prompt tokens processed").tag("model", model).register(registry);
        Counter generated = Counter.builder("freehold_generated_tokens").description("tokens generated").tag("model", model).register(registry);
        Timer ttft = Timer.builder("freehold_time_to_first_token").description("from request to first token")
                .tag("model", model).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(5)).register(registry);
        DistributionSummary speed = DistributionSummary.builder("freehold_generation_tokens_per_second")
                .description("generation speed per request").tag("model", model)
                .serviceLevelObjectives(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000).register(registry);
        return new Scheduler.Listener() {
            @Override
            public void queueChanged(int waiting, int active) {
                q[0].set(waiting);
                q[1].set(active);
            }

            @Override
            public void firstToken(long nanosSinceSubmit) {
                ttft.record(nanosSinceSubmit, TimeUnit.NANOSECONDS);
            }

            @Override
            public void finished(GenerationEvent.FinishReason reason, int prompt, int completion, long generationNanos) {
                Counter.builder("freehold_sequences_finished").description("sequences ended, by reason").tag("model", model)
                        .tag("reason", reason.name().toLowerCase(java.util.Locale.ROOT)).register(registry).increment();
                promptTokens.increment(prompt);
                generated.increment(completion);
                if (completion > 1 && generationNanos > 0) speed.record(completion * 1e9 / generationNanos);
            }
        };
    }
}
