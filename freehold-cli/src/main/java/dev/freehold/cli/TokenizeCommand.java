package dev.freehold.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.freehold.core.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Turn text into the model's token ids, exactly as llama.cpp does.",
                "With no TEXT, reads JSON strings from standard input, one per line, and prints one JSON array of ids per line."},
        footer = {"", "Examples:", "  freehold tokenize -m model.gguf 'Hello world'",
                "  freehold tokenize -m ./Llama-3.2-1B --show --special '<|begin_of_text|>Hi'",
                "  printf '\"one\"\\n\"two\"\\n' | freehold tokenize -m model.gguf"})
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL",
            description = "a .gguf file, a tokenizer.json, or a directory holding one (or encoder.json + vocab.bpe)")
    Path model;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TEXT")
    String text;

    @Option(names = "--json", description = "print a JSON array")
    boolean json;

    @Option(names = "--no-bos", description = "do not add BOS/EOS (or CLS/SEP) as the model would")
    boolean noBos;

    @Option(names = "--special", description = "recognise special tokens such as <|eot_id|> written in the text")
    boolean special;

    @Option(names = "--show", description = "print each id with its piece")
    boolean show;

    @Option(names = "--pre", paramLabel = "NAME", description = "pre-tokenizer for encoder.json + vocab.bpe (default gpt-2; llama-bpe for Llama 3)")
    String pre;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Tokenizer tok = TokenizerLoader.load(model, pre);
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper mapper = new ObjectMapper();
        if (text != null) {
            int[] ids = tok.encode(text, !noBos, special);
            if (show) {
                for (int id : ids) out.printf("%8d  %s%n", id, showPiece(mapper, tok.pieceBytes(id, true)));
            } else if (json) {
                out.println(mapper.writeValueAsString(ids));
            } else {
                StringBuilder sb = new StringBuilder();
                for (int id : ids) sb.append(sb.isEmpty() ? "" : " ").append(id);
                out.println(sb);
            }
            out.flush();
            return 0;
        }
        // Batch: each line is read as bytes and decoded strictly, so invalid UTF-8 is reported with its line.
        java.io.InputStream in = new java.io.BufferedInputStream(System.in);
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
        int lineNo = 0;
        int b;
        boolean more = true;
        while (more) {
            b = in.read();
            if (b != -1 && b != '\n') {
                line.write(b);
                continue;
            }
            more = b != -1;
            if (!more && line.size() == 0) break;
            lineNo++;
            byte[] bytes = line.toByteArray();
            line.reset();
            String textLine;
            try {
                textLine = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("standard input line %d: invalid UTF-8".formatted(lineNo));
            }
            if (textLine.isBlank()) continue;
            JsonNode node;
            try {
                node = mapper.readTree(textLine);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("standard input line %d: not a JSON string (%s)".formatted(lineNo, e.getOriginalMessage()));
            }
            if (node == null || !node.isTextual()) {
                throw new IllegalArgumentException("standard input line %d: expected a JSON string, found %s".formatted(lineNo,
                        node == null ? "nothing" : node.getNodeType().name().toLowerCase()));
            }
            out.println(mapper.writeValueAsString(tok.encode(node.asText(), !noBos, special)));
            out.flush();
        }
        return 0;
    }

    /** A piece as a JSON string, or as its bytes in hex when it is not whole UTF-8 (part of a character). */
    static String showPiece(ObjectMapper mapper, byte[] piece) throws JsonProcessingException {
        try {
            return mapper.writeValueAsString(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(piece)).toString());
        } catch (CharacterCodingException e) {
            StringBuilder sb = new StringBuilder("bytes");
            for (byte x : piece) sb.append(String.format(" %02X", x & 0xFF));
            return sb.toString();
        }
    }
}
