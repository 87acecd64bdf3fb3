package dev.freehold.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class TokenizeCliTest {

    static Path stories() {
        return CliTest.stories().resolve("stories260K.gguf");
    }

    static CliTest.Result withStdin(byte[] input, String... args) {
        InputStream saved = System.in;
        try {
            System.setIn(new ByteArrayInputStream(input));
            return CliTest.run(args);
        } finally {
            System.setIn(saved);
        }
    }

    @Test
    void tokenizeAndDetokenize() {
        String m = stories().toString();
        assertThat(CliTest.run("tokenize", "-m", m, "Once upon a time").out().strip()).isEqualTo("1 403 407 261 378");
        assertThat(CliTest.run("tokenize", "-m", m, "--json", "--no-bos", "Once upon a time").out().strip()).isEqualTo("[403,407,261,378]");
        assertThat(CliTest.run("tokenize", "-m", m, "--show", "Once").out()).contains("\"<s>\"").contains("\" Once\"");
        assertThat(CliTest.run("detokenize", "-m", m, "403", "407", "261", "378").out().strip()).isEqualTo("Once upon a time");
        assertThat(CliTest.run("detokenize", "-m", m, "--json", "403").out().strip()).isEqualTo("{\"text\":\"Once\"}");
    }

    @Test
    void batchModeReadsJsonStringsPerLine() {
        CliTest.Result r = withStdin("\"Once upon a time\"\n\n\"a\\nb\"\n".getBytes(), "tokenize", "-m", stories().toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().strip().split("\n")).hasSize(2);
        assertThat(r.out()).startsWith("[1,403,407,261,378]\n");
    }

    @Test
    void badInputIsReportedWithItsLine() {
        String m = stories().toString();
        CliTest.Result utf8 = withStdin(new byte[] {'"', 'o', 'k', '"', '\n', (byte) 0xC3, (byte) 0x28, '\n'}, "tokenize", "-m", m);
        assertThat(utf8.code()).isEqualTo(2);
        assertThat(utf8.err()).contains("line 2: invalid UTF-8");
        assertThat(utf8.out()).startsWith("[1,");
        CliTest.Result notJson = withStdin("hello\n".getBytes(), "tokenize", "-m", m);
        assertThat(notJson.err()).contains("line 1: not a JSON string");
        CliTest.Result unknownId = CliTest.run("detokenize", "-m", m, "1", "600");
        assertThat(unknownId.code()).isEqualTo(2);
        assertThat(unknownId.err()).contains("token id 600 is outside the vocabulary (0..511)");
        assertThat(CliTest.run("detokenize", "-m", m, "x1").err()).contains("'x1' is not a token id");
        CliTest.Result noTokenizer = CliTest.run("tokenize", "-m", CliTest.stories().toString(), "hi");
        assertThat(noTokenizer.code()).isEqualTo(2);
        assertThat(noTokenizer.err()).contains("no tokenizer here");
    }
}
