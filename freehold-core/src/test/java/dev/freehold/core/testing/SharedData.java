package dev.freehold.core.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The project's shared, read-only test data ({@code ../shared/data} beside the clone). A fresh clone may not
 * have it: tests that need it skip with a message saying so, unless {@code freehold.require.shared=true}
 * (CI sets it), in which case its absence fails the test instead, so CI cannot silently skip them.
 */
public final class SharedData {
    private SharedData() {
    }

    public static Path root() {
        String configured = System.getProperty("freehold.shared.data", System.getenv().getOrDefault("FREEHOLD_SHARED_DATA", "../shared/data"));
        return Path.of(configured).toAbsolutePath().normalize();
    }

    /** The path of a file or folder in the shared data, or a skip (or, when required, a failure) if absent. */
    public static Path require(String relative) {
        Path p = root().resolve(relative);
        if (!Files.exists(p)) {
            String msg = "shared test data not found: " + p + " (clone the project beside ../shared, or set -Dfreehold.shared.data)";
            if (Boolean.getBoolean("freehold.require.shared")) {
                fail(msg + "; freehold.require.shared=true, so this is an error");
            }
            assumeTrue(false, msg);
        }
        return p;
    }
}
