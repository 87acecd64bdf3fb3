package dev.freehold.server;

import java.util.Set;

/**
 * How the HTTP side behaves.
 *
 * @param host          the address to bind (127.0.0.1 unless told otherwise)
 * @param port          0 for any free port
 * @param apiKeys       when not empty, every endpoint but /health needs {@code Authorization: Bearer KEY}
 * @param maxBodyBytes  larger request bodies get 413
 * <p>The access log never holds prompt or answer text: prompts may be exactly the data that must not leave.
 */
public record ServerOptions(String host, int port, Set<String> apiKeys, long maxBodyBytes) {
    public ServerOptions {
        apiKeys = Set.copyOf(apiKeys);
        for (String k : apiKeys) if (k.isBlank()) throw new IllegalArgumentException("an API key must not be blank");
    }
}
