package dev.freehold.server;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes a streamed response (server-sent events or NDJSON) and flushes each message, so tokens reach the client as
 * they come. A failed write means the client went away: {@link ClientGone}, so the caller cancels the generation.
 */
public final class StreamWriter {
    private final OutputStream out;

    public StreamWriter(OutputStream out) {
        this.out = out;
    }

    /** Thrown when the client closed the connection. */
    public static final class ClientGone extends Exception {
        ClientGone(IOException cause) {
            super(cause);
        }
    }

    public void write(String text) throws ClientGone {
        try {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new ClientGone(e);
        }
    }

    /** One server-sent event: {@code data: ...} and a blank line. */
    public void event(String data) throws ClientGone {
        write("data: " + data + "\n\n");
    }

    /** One line of newline-delimited JSON. */
    public void line(String json) throws ClientGone {
        write(json + "\n");
    }
}
