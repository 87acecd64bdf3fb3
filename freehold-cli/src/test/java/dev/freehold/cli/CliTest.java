package dev.freehold.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.tensor.GgmlType;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    static Path stories() {
        Path p = Path.of(System.getProperty("freehold.shared.data", "../shared/data"), "llama2c-stories260K");
        if (!Files.isDirectory(p)) {
            if (Boolean.getBoolean("freehold.require.shared")) throw new AssertionError("shared data missing: " + p);
            assumeTrue(false, "shared test data not found at " + p);
        }
        return p;
    }

    @Test
    void everyCommandHasHelp() {
        for (String cmd : new String[] {"inspect", "convert", "quantize"}) {
            Result r = run(cmd, "--help");
            assertThat(r.code()).isZero();
            assertThat(r.out()).contains("Usage: freehold " + cmd).contains("Example");
        }
        assertThat(run("--help").out()).contains("inspect").contains("convert").contains("quantize");
        assertThat(run("--version").out()).contains("freehold");
    }

    @Test
    void convertQuantizeAndInspectStories260k(@TempDir Path tmp) throws Exception {
        Path dir = stories();
        Path f32 = tmp.resolve("stories.gguf");
        Result c = run("convert", "-q", dir.resolve("stories260K.bin").toString(), f32.toString());
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.out()).contains("wrote").contains("48 f32");

        Path q8 = tmp.resolve("stories-q8.gguf");
        Result q = run("quantize", "-q", f32.toString(), q8.toString(), "q8_0");
        assertThat(q.code()).as(q.err()).isZero();
        assertThat(q.out()).contains("q8_0:").contains("->");
        try (GgufFile g = GgufFile.open(q8)) {
            assertThat(g.tensor("blk.0.attn_q.weight").orElseThrow().type()).isEqualTo(GgmlType.Q8_0);
            assertThat(g.tensor("blk.0.ffn_down.weight").orElseThrow().type()).as("172 is not a multiple of 32").isEqualTo(GgmlType.F16);
            assertThat(g.tensor("blk.0.attn_norm.weight").orElseThrow().type()).isEqualTo(GgmlType.F32);
            assertThat(g.getLong("general.file_type")).contains(7L);
        }

        Result i = run("inspect", "--json", "--sha256", q8.toString());
        assertThat(i.code()).as(i.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(i.out());
        for (String key : new String[] {"architecture", "parameters", "context_length", "embedding_length", "block_count",
                "head_count", "head_count_kv", "vocab_size", "tensors", "metadata"}) {
            assertThat(j.has(key)).as("key " + key).isTrue();
        }
        assertThat(j.get("architecture").asText()).isEqualTo("llama");
        assertThat(j.get("parameters").asLong()).isEqualTo(64 * 512 * 2 + 64 + 5 * (64 * 64 * 2 + 64 * 32 * 2 + 64 * 172 * 3 + 64 * 2));
        assertThat(j.get("vocab_size").asInt()).isEqualTo(512);
        assertThat(j.get("tensors")).hasSize(48);
        assertThat(j.get("tensors").get(0).get("shape").get(1).asInt()).isEqualTo(512);
        assertThat(j.get("metadata").get("tokenizer.ggml.tokens").get("length").asInt()).isEqualTo(512);
        assertThat(j.get("sha256").asText()).hasSize(64).isEqualTo(InspectCommand.sha256(q8));

        Result text = run("inspect", f32.toString());
        assertThat(text.out()).contains("architecture   llama").contains("heads          8 (KV heads 4)")
                .contains("vocabulary     512 tokens, SentencePiece BPE");
    }

    @Test
    void badInputGivesOneLineAndExitCode2(@TempDir Path tmp) throws Exception {
        Path junk = Files.write(tmp.resolve("junk.gguf"), "GGUF\u0003\u0000\u0000\u0000 and then nothing".getBytes());
        Result r = run("inspect", junk.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).startsWith("freehold: " + junk).doesNotContain("\n").doesNotContain("Exception");

        Result missing = run("inspect", tmp.resolve("nope.gguf").toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("no such file");

        Result unknownType = run("quantize", junk.toString(), tmp.resolve("o.gguf").toString(), "q7_0");
        assertThat(unknownType.code()).isEqualTo(2);
        assertThat(unknownType.err()).contains("unknown type 'q7_0'");

        Result mix = run("quantize", junk.toString(), tmp.resolve("o.gguf").toString(), "Q4_K_M");
        assertThat(mix.err()).contains("q4_K");

        Result unknownOption = run("inspect", "--frobnicate", junk.toString());
        assertThat(unknownOption.code()).isEqualTo(2);
        assertThat(unknownOption.err()).contains("Unknown option");

        Path out = Files.writeString(tmp.resolve("exists.gguf"), "x");
        Result exists = run("convert", junk.toString(), out.toString());
        assertThat(exists.code()).isEqualTo(2);
        assertThat(exists.err()).contains("already exists");

        // A llama2.c checkpoint whose header promises more weights than the file has.
        Path ckpt = tmp.resolve("model.bin");
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(64).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(4096).putInt(11008).putInt(32).putInt(32).putInt(32).putInt(32000).putInt(2048);
        Files.write(ckpt, b.array());
        Files.write(tmp.resolve("tokenizer.bin"), new byte[8]);
        Result truncated = run("convert", ckpt.toString(), tmp.resolve("m.gguf").toString());
        assertThat(truncated.code()).isEqualTo(2);
        assertThat(truncated.err()).contains("token_embedding_table").contains("truncated");

        b.clear();
        b.putInt(-5).putInt(11008).putInt(32).putInt(32).putInt(32).putInt(32000).putInt(2048);
        Files.write(ckpt, b.array());
        Result negative = run("convert", ckpt.toString(), tmp.resolve("m2.gguf").toString());
        assertThat(negative.code()).isEqualTo(2);
        assertThat(negative.err()).contains("must be positive");
    }
}
