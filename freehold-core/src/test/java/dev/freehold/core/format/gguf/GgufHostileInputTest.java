package dev.freehold.core.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.freehold.core.format.ModelFormatException;
import dev.freehold.core.format.synthetic.RandomLlamaModel;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.util.ProgressListener;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed and hostile GGUF files must give a {@link ModelFormatException} naming the field and offset,
 * quickly, without allocating what the file claims. The timeouts below only guard against hangs.
 */
class GgufHostileInputTest {
    @TempDir
    Path tmp;

    /** Builds GGUF bytes by hand. */
    static final class Raw {
        final ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        Raw header(int version, long tensors, long kvs) {
            b.putInt(GgufFile.MAGIC).putInt(version).putLong(tensors).putLong(kvs);
            return this;
        }

        Raw string(String s) {
            byte[] x = s.getBytes(StandardCharsets.UTF_8);
            b.putLong(x.length).put(x);
            return this;
        }

        Raw kvU32(String key, int v) {
            string(key);
            b.putInt(GgufValueType.UINT32.id()).putInt(v);
            return this;
        }

        Raw tensor(String name, long[] shape, int type, long offset) {
            string(name);
            b.putInt(shape.length);
            for (long d : shape) b.putLong(d);
            b.putInt(type).putLong(offset);
            return this;
        }

        Raw align(int a) {
            while (b.position() % a != 0) b.put((byte) 0);
            return this;
        }

        Raw zeros(int n) {
            b.put(new byte[n]);
            return this;
        }

        byte[] bytes() {
            return Arrays.copyOf(b.array(), b.position());
        }
    }

    private ModelFormatException rejected(byte[] bytes) throws Exception {
        Path f = Files.write(tmp.resolve("bad-" + System.nanoTime() + ".gguf"), bytes);
        ModelFormatException[] caught = new ModelFormatException[1];
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            try (GgufFile g = GgufFile.open(f)) {
                throw new AssertionError("accepted a bad file: " + g.metadata().keySet());
            } catch (ModelFormatException e) {
                caught[0] = e;
            }
        });
        assertThat(caught[0].getMessage()).startsWith(f.toString()).doesNotContain("\n");
        return caught[0];
    }

    @Test
    void wrongMagicAndTinyFiles() throws Exception {
        assertThat(rejected("PK\u0003\u0004 not a model".getBytes()).getMessage()).contains("not a GGUF file");
        assertThat(rejected(new byte[0]).field()).isEqualTo("magic");
        assertThat(rejected(new byte[] {'G', 'G', 'U', 'F', 3}).field()).isEqualTo("version");
    }

    @Test
    void unknownAndObsoleteVersions() throws Exception {
        assertThat(rejected(new Raw().header(1, 0, 0).bytes()).getMessage()).contains("version 1 is obsolete");
        assertThat(rejected(new Raw().header(99, 0, 0).bytes()).getMessage()).contains("unsupported GGUF version 99");
        assertThat(rejected(new Raw().header(Integer.reverseBytes(3), 0, 0).bytes()).getMessage()).contains("big-endian");
    }

    @Test
    void absurdCountsAreRejectedBeforeAllocating() throws Exception {
        ModelFormatException e = rejected(new Raw().header(3, 1_000_000_000L, 0).bytes());
        assertThat(e.field()).isEqualTo("tensor count");
        assertThat(e.offset()).isEqualTo(8);
        assertThat(rejected(new Raw().header(3, 0, -1L).bytes()).field()).isEqualTo("metadata count");
        // A string length of 2^62 in a key.
        Raw r = new Raw().header(3, 0, 1);
        r.b.putLong(1L << 62);
        r.zeros(32);
        ModelFormatException s = rejected(r.bytes());
        assertThat(s.getMessage()).contains("string length 4611686018427387904 exceeds");
        assertThat(s.offset()).isEqualTo(24);
        // An array claiming 2^40 elements.
        Raw a = new Raw().header(3, 0, 1).string("tokens");
        a.b.putInt(GgufValueType.ARRAY.id()).putInt(GgufValueType.STRING.id()).putLong(1L << 40);
        assertThat(rejected(a.bytes()).getMessage()).contains("1099511627776 elements of string cannot fit");
        // Arrays of arrays nested without end.
        Raw n = new Raw().header(3, 0, 1).string("deep");
        n.b.putInt(GgufValueType.ARRAY.id());
        for (int i = 0; i < 100; i++) n.b.putInt(GgufValueType.ARRAY.id()).putLong(1);
        assertThat(rejected(n.bytes()).getMessage()).contains("nested more than");
    }

    @Test
    void badMetadataValues() throws Exception {
        Raw t = new Raw().header(3, 0, 1).string("k");
        t.b.putInt(77);
        assertThat(rejected(t.bytes()).getMessage()).contains("unknown metadata value type 77");
        Raw bool = new Raw().header(3, 0, 1).string("flag");
        bool.b.putInt(GgufValueType.BOOL.id()).put((byte) 7);
        assertThat(rejected(bool.bytes()).getMessage()).contains("boolean byte is 7");
        Raw dup = new Raw().header(3, 0, 2).kvU32("a", 1).kvU32("a", 2);
        assertThat(rejected(dup.bytes()).getMessage()).contains("duplicate key");
        Raw align = new Raw().header(3, 0, 1).kvU32("general.alignment", 48);
        assertThat(rejected(align.bytes()).getMessage()).contains("power of two");
    }

    @Test
    void badTensorInfos() throws Exception {
        assertThat(rejected(new Raw().header(3, 1, 0).tensor("t", new long[] {32}, 200, 0).align(32).zeros(128).bytes()).getMessage())
                .contains("unknown tensor type id 200");
        assertThat(rejected(new Raw().header(3, 1, 0).tensor("t", new long[] {32, 1, 1, 1, 1}, 0, 0).align(32).zeros(128).bytes())
                .getMessage()).contains("5 dimensions");
        assertThat(rejected(new Raw().header(3, 1, 0).tensor("t", new long[] {0}, 0, 0).align(32).zeros(128).bytes()).getMessage())
                .contains("not a positive number");
        assertThat(rejected(new Raw().header(3, 1, 0).tensor("t", new long[] {1L << 40, 1L << 40}, 0, 0).align(32).bytes()).getMessage())
                .contains("overflows");
        assertThat(rejected(new Raw().header(3, 1, 0).tensor("t", new long[] {33}, GgmlType.Q8_0.id(), 0).align(32).zeros(64).bytes())
                .getMessage()).contains("not a multiple of Q8_0's block size 32");
        assertThat(rejected(new Raw().header(3, 1, 0).tensor("t", new long[] {8}, 0, 7).align(32).zeros(64).bytes()).getMessage())
                .contains("not a multiple of the alignment");
        ModelFormatException past = rejected(new Raw().header(3, 1, 0).tensor("t", new long[] {64}, 0, 0).align(32).zeros(100).bytes());
        assertThat(past.getMessage()).contains("run past the end of the file");
        assertThat(past.field()).isEqualTo("tensor 't' data");
        assertThat(rejected(new Raw().header(3, 2, 0).tensor("a", new long[] {16}, 0, 0).tensor("b", new long[] {16}, 0, 32)
                .align(32).zeros(128).bytes()).getMessage()).contains("overlaps tensor 'a'");
        assertThat(rejected(new Raw().header(3, 2, 0).tensor("a", new long[] {8}, 0, 0).tensor("a", new long[] {8}, 0, 32)
                .align(32).zeros(128).bytes()).getMessage()).contains("duplicate tensor name");
    }

    @Test
    void everyTruncationOfAValidFileIsRejectedCleanly() throws Exception {
        Path valid = tmp.resolve("valid.gguf");
        RandomLlamaModel.write(valid, new RandomLlamaModel.Shape(32, 64, 1, 2, 1, 300, 64, false), GgmlType.Q8_0, 1, ProgressListener.NONE);
        byte[] bytes = Files.readAllBytes(valid);
        try (GgufFile g = GgufFile.open(valid)) {
            assertThat(g.tensors()).hasSize(12);
        }
        Random r = new Random(5);
        for (int i = 0; i < 200; i++) {
            int cut = i < 100 ? i * bytes.length / 100 : r.nextInt(bytes.length);
            rejected(Arrays.copyOf(bytes, cut));
        }
    }

    @Test
    void mutatedFilesParseOrFailWithAFormatErrorOnly() throws Exception {
        // A mutation fuzzer: random byte flips, random 8-byte fields set to extreme values, and random splices,
        // applied to a valid file. Whatever happens, the reader may only accept the file or throw
        // ModelFormatException: never another exception, an OutOfMemoryError or a hang.
        Path valid = tmp.resolve("valid.gguf");
        RandomLlamaModel.write(valid, new RandomLlamaModel.Shape(32, 64, 1, 2, 1, 300, 64, false), GgmlType.Q4_0, 1, ProgressListener.NONE);
        byte[] original = Files.readAllBytes(valid);
        int headerEnd;
        try (GgufFile g = GgufFile.open(valid)) {
            headerEnd = (int) g.dataOffset();
        }
        Random r = new Random(20261128);
        long[] extremes = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 62, 1L << 32, 0xFFFFFFFFL, 1_000_000_000L};
        int accepted = 0;
        Path f = tmp.resolve("mutant.gguf");
        for (int i = 0; i < 3000; i++) {
            byte[] b = original.clone();
            int mutations = 1 + r.nextInt(4);
            for (int m = 0; m < mutations; m++) {
                int at = r.nextInt(headerEnd);
                switch (r.nextInt(3)) {
                    case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
                    case 1 -> {
                        if (at + 8 <= b.length) ByteBuffer.wrap(b, at, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(extremes[r.nextInt(extremes.length)]);
                    }
                    default -> {
                        int from = r.nextInt(headerEnd);
                        int len = Math.min(1 + r.nextInt(16), Math.min(b.length - at, b.length - from));
                        System.arraycopy(original, from, b, at, len);
                    }
                }
            }
            Files.write(f, b);
            try (GgufFile g = GgufFile.open(f)) {
                accepted++;
                for (GgufTensorInfo t : g.tensors()) g.data(t); // slices must be in bounds
            } catch (ModelFormatException expected) {
                assertThat(expected.getMessage()).doesNotContain("\n");
            }
        }
        // Most mutations hit string bytes and remain valid; many hit counts and offsets and must be refused.
        assertThat(accepted).isBetween(1, 2999);
    }

    @Test
    void writerRejectsWhatTheReaderWouldRejectToo() {
        GgufWriter w = new GgufWriter();
        w.tensor("a", GgmlType.F32, new long[] {4}, sink -> { });
        assertThatThrownBy(() -> w.tensor("a", GgmlType.F32, new long[] {4}, sink -> { })).isInstanceOf(IllegalArgumentException.class);
    }
}
