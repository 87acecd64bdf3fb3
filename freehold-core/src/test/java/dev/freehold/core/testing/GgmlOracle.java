package dev.freehold.core.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.freehold.core.tensor.GgmlType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * ggml's own reference quantisers and dequantisers, run through {@code tools/ggml-oracle} (built by
 * {@code tools/ggml-oracle/build.sh}). Tests skip when it has not been built, unless
 * {@code freehold.require.oracles=true} (CI), in which case they fail.
 */
public final class GgmlOracle {
    private GgmlOracle() {
    }

    public static Path binary() {
        Path p = Path.of(System.getProperty("freehold.ggml.oracle", "../tools/ggml-oracle/build/ggml-oracle"));
        if (!Files.isExecutable(p)) {
            String msg = "ggml oracle not built: " + p + " (run tools/ggml-oracle/build.sh)";
            if (Boolean.getBoolean("freehold.require.oracles")) {
                fail(msg + "; freehold.require.oracles=true, so this is an error");
            }
            assumeTrue(false, msg);
        }
        return p;
    }

    public static byte[] quantize(GgmlType type, float[] values) {
        ByteBuffer in = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        in.asFloatBuffer().put(values);
        return run("quantize", type, values.length, in.array());
    }

    public static float[] dequantize(GgmlType type, byte[] data, int n) {
        byte[] out = run("dequantize", type, n, data);
        float[] f = new float[n];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    private static byte[] run(String command, GgmlType type, int n, byte[] stdin) {
        try {
            Process p = new ProcessBuilder(binary().toString(), command, type.displayName(), Integer.toString(n)).start();
            // Dedicated threads, not the common pool: on a 2-core machine it has one worker, and a reader
            // queued behind another would let a pipe fill and stall the child.
            Thread writer = Thread.ofVirtual().start(() -> {
                try (OutputStream os = p.getOutputStream()) {
                    os.write(stdin);
                } catch (IOException e) {
                    // the child exited early; its stderr says why
                }
            });
            byte[][] err = new byte[1][];
            Thread errReader = Thread.ofVirtual().start(() -> err[0] = readAll(p.getErrorStream()));
            byte[] out = readAll(p.getInputStream());
            writer.join();
            errReader.join();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("ggml-oracle timed out");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("ggml-oracle failed: " + new String(err[0]));
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static byte[] readAll(InputStream in) {
        try (in) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            return b.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
