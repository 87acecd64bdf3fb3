package dev.freehold.core.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.freehold.core.tensor.Bits;
import dev.freehold.core.tensor.GgmlType;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files and tensors larger than 2 GiB (beyond int offsets and ByteBuffers) are read through the mapping. */
class GgufLargeFileTest {

    @Test
    void tensorsBeyondTwoGibibytesAreAddressable(@TempDir Path tmp) throws Exception {
        // Header by hand: two F32 tensors, the first 2.5 GiB, the second after it. The data is a sparse hole
        // except for the values written below, so the test needs no real disk space.
        long rows = 640;
        long cols = 1L << 20;
        GgufHostileInputTest.Raw raw = new GgufHostileInputTest.Raw().header(3, 2, 1).kvU32("general.alignment", 32);
        raw.tensor("big", new long[] {cols, rows}, GgmlType.F32.id(), 0);
        raw.tensor("after", new long[] {8}, GgmlType.F32.id(), rows * cols * 4);
        raw.align(32);
        byte[] header = raw.bytes();
        Path f = tmp.resolve("large.gguf");
        Files.write(f, header);
        long dataStart = header.length;
        long lastBigValue = dataStart + rows * cols * 4 - 4;
        long afterStart = dataStart + rows * cols * 4;
        try (RandomAccessFile file = new RandomAccessFile(f.toFile(), "rw")) {
            file.setLength(afterStart + 32);
            file.seek(lastBigValue);
            file.writeInt(Integer.reverseBytes(Float.floatToIntBits(42.5f)));
            file.seek(afterStart + 4);
            file.writeInt(Integer.reverseBytes(Float.floatToIntBits(-1.25f)));
        }
        assertThat(Files.size(f)).isGreaterThan(2L << 30);
        try (GgufFile g = GgufFile.open(f)) {
            GgufTensorInfo t = g.tensor("big").orElseThrow();
            assertThat(t.byteSize()).isEqualTo(rows * cols * 4).isGreaterThan(Integer.MAX_VALUE);
            assertThat(g.data(t).get(Bits.LE_FLOAT, t.byteSize() - 4)).isEqualTo(42.5f);
            GgufTensorInfo after = g.tensor("after").orElseThrow();
            assertThat(g.dataOffset() + after.offset()).isGreaterThan(Integer.MAX_VALUE);
            float[] v = new float[8];
            GgmlType.F32.codec().orElseThrow().dequantize(g.data(after), 0, v, 0, 8);
            assertThat(v[1]).isEqualTo(-1.25f);
        }
    }
}
