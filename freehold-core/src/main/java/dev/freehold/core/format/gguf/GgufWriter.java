package dev.freehold.core.format.gguf;

import dev.freehold.core.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Writes a GGUF v3 file: metadata, tensor infos, then each tensor's data at an aligned offset.
 *
 * <p>Tensor data is streamed: each tensor supplies a {@link TensorPayload} that writes its bytes when asked,
 * so converting or quantising a model never holds more than one chunk of it in memory. The file is written
 * to a temporary sibling and moved into place at the end, so a failed run leaves no half-written model.
 */
public final class GgufWriter {

    /** Produces a tensor's bytes into a sink, in order; must write exactly the tensor's byte size. */
    @FunctionalInterface
    public interface TensorPayload {
        void writeTo(Sink sink) throws IOException;
    }

    /** Receives tensor bytes. */
    public interface Sink {
        void write(MemorySegment bytes) throws IOException;

        default void write(byte[] bytes) throws IOException {
            write(MemorySegment.ofArray(bytes));
        }
    }

    private record PendingTensor(String name, GgmlType type, long[] shape, TensorPayload payload) {
    }

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;
    private LongConsumer progress = bytes -> { };

    /** Adds or replaces a metadata entry; insertion order is file order. */
    public GgufWriter put(String key, GgufValue value) {
        metadata.put(key, value);
        if (key.equals(GgufFile.KEY_ALIGNMENT)) {
            alignment = value.asInt();
        }
        return this;
    }

    public GgufWriter putAll(Map<String, GgufValue> entries) {
        entries.forEach(this::put);
        return this;
    }

    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    /** Adds a tensor; {@code shape[0]} is the row length. */
    public GgufWriter tensor(String name, GgmlType type, long[] shape, TensorPayload payload) {
        for (PendingTensor t : tensors) {
            if (t.name.equals(name)) throw new IllegalArgumentException("duplicate tensor name " + name);
        }
        tensors.add(new PendingTensor(name, type, shape.clone(), payload));
        return this;
    }

    /** Called with the number of tensor-data bytes written so far, for progress display. */
    public GgufWriter onProgress(LongConsumer progress) {
        this.progress = progress;
        return this;
    }

    /** Total bytes of tensor data that {@link #write} will produce. */
    public long tensorDataBytes() {
        long total = 0;
        for (PendingTensor t : tensors) {
            total = GgufFile.alignUp(total, alignment) + t.type.bytesFor(elements(t.shape));
        }
        return total;
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public void write(Path out) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        // Created like any new file (the umask decides its permissions), not as a private temporary file.
        Path tmp = parent.resolve("." + out.getFileName() + "." + Long.toHexString(System.nanoTime()) + ".partial");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeTo(ch);
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private void writeTo(FileChannel ch) throws IOException {
        HeaderBuffer h = new HeaderBuffer();
        h.i32(GgufFile.MAGIC);
        h.i32(3);
        h.i64(tensors.size());
        h.i64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            h.string(e.getKey());
            h.i32(e.getValue().type().id());
            h.value(e.getValue());
        }
        long offset = 0;
        List<Long> offsets = new ArrayList<>();
        for (PendingTensor t : tensors) {
            offset = GgufFile.alignUp(offset, alignment);
            offsets.add(offset);
            h.string(t.name);
            h.i32(t.shape.length);
            for (long d : t.shape) h.i64(d);
            h.i32(t.type.id());
            h.i64(offset);
            offset += t.type.bytesFor(elements(t.shape));
        }
        h.padTo(alignment);
        ByteBuffer header = h.finish();
        while (header.hasRemaining()) ch.write(header);

        long dataStart = ch.position();
        long[] written = {0};
        for (int i = 0; i < tensors.size(); i++) {
            PendingTensor t = tensors.get(i);
            long start = dataStart + offsets.get(i);
            padZeros(ch, start - ch.position());
            long expected = t.type.bytesFor(elements(t.shape));
            long before = ch.position();
            t.payload.writeTo(bytes -> {
                writeFully(ch, bytes);
                written[0] += bytes.byteSize();
                progress.accept(written[0]);
            });
            long actual = ch.position() - before;
            if (actual != expected) {
                throw new IllegalStateException("tensor %s: payload wrote %d bytes, expected %d".formatted(t.name, actual, expected));
            }
        }
    }

    private static void writeFully(FileChannel ch, MemorySegment bytes) throws IOException {
        final long chunk = 64L << 20;
        for (long off = 0; off < bytes.byteSize(); off += chunk) {
            ByteBuffer bb = bytes.asSlice(off, Math.min(chunk, bytes.byteSize() - off)).asByteBuffer();
            while (bb.hasRemaining()) ch.write(bb);
        }
    }

    private static void padZeros(FileChannel ch, long n) throws IOException {
        if (n > 0) {
            ByteBuffer z = ByteBuffer.allocate((int) n);
            while (z.hasRemaining()) ch.write(z);
        }
    }

    /** Growable little-endian buffer for the header. */
    private static final class HeaderBuffer {
        private ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(long n) {
            if (buf.remaining() < n) {
                long cap = Math.max((long) buf.capacity() * 2, buf.position() + n + 1024);
                if (cap > Integer.MAX_VALUE - 64) throw new IllegalStateException("GGUF header larger than 2 GiB");
                ByteBuffer bigger = ByteBuffer.allocate((int) cap).order(ByteOrder.LITTLE_ENDIAN);
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
        }

        void i8(int v) {
            ensure(1);
            buf.put((byte) v);
        }

        void i16(int v) {
            ensure(2);
            buf.putShort((short) v);
        }

        void i32(int v) {
            ensure(4);
            buf.putInt(v);
        }

        void i64(long v) {
            ensure(8);
            buf.putLong(v);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            ensure(b.length);
            buf.put(b);
        }

        void value(GgufValue v) {
            if (v.isArray()) {
                i32(v.elementType().id());
                i64(v.length());
                switch (v.value()) {
                    case long[] a -> { for (long x : a) scalar(v.elementType(), x); }
                    case double[] a -> { for (double x : a) scalar(v.elementType(), x); }
                    case boolean[] a -> { for (boolean x : a) i8(x ? 1 : 0); }
                    case String[] a -> { for (String x : a) string(x); }
                    case GgufValue[] a -> { for (GgufValue x : a) value(x); }
                    default -> throw new IllegalStateException("bad array value " + v);
                }
            } else {
                switch (v.value()) {
                    case String s -> string(s);
                    case Boolean b -> i8(b ? 1 : 0);
                    case Long l -> scalar(v.type(), l);
                    case Double d -> scalar(v.type(), d);
                    default -> throw new IllegalStateException("bad value " + v);
                }
            }
        }

        private void scalar(GgufValueType type, long x) {
            switch (type) {
                case UINT8, INT8 -> i8((int) x);
                case UINT16, INT16 -> i16((int) x);
                case UINT32, INT32 -> i32((int) x);
                case UINT64, INT64 -> i64(x);
                case FLOAT32 -> { ensure(4); buf.putFloat(x); }
                case FLOAT64 -> { ensure(8); buf.putDouble(x); }
                default -> throw new IllegalStateException("not an integer type " + type);
            }
        }

        private void scalar(GgufValueType type, double x) {
            switch (type) {
                case FLOAT32 -> { ensure(4); buf.putFloat((float) x); }
                case FLOAT64 -> { ensure(8); buf.putDouble(x); }
                default -> scalar(type, (long) x);
            }
        }

        void padTo(int alignment) {
            while (buf.position() % alignment != 0) i8(0);
        }

        ByteBuffer finish() {
            buf.flip();
            return buf;
        }
    }
}
