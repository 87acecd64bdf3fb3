package dev.freehold.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.freehold.core.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "detokenize", mixinStandardHelpOptions = true,
        description = "Turn token ids back into text, as llama.cpp's detokenize does.",
        footer = {"", "Example:", "  freehold detokenize -m model.gguf 9906 1917"})
final class DetokenizeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL",
            description = "a .gguf file, a tokenizer.json, or a directory holding one")
    Path model;

    @Parameters(arity = "1..*", paramLabel = "ID")
    List<String> ids;

    @Option(names = "--special", description = "write control tokens (e.g. <|eot_id|>) as their text")
    boolean special;

    @Option(names = "--json", description = "print {\"text\": ...}")
    boolean json;

    @Option(names = "--pre", paramLabel = "NAME", hidden = true)
    String pre;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Tokenizer tok = TokenizerLoader.load(model, pre);
        int[] parsed = new int[ids.size()];
        for (int i = 0; i < parsed.length; i++) {
            try {
                parsed[i] = Integer.parseInt(ids.get(i).trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + ids.get(i) + "' is not a token id");
            }
        }
        String text = new String(tok.decodeBytes(parsed, false, special), StandardCharsets.UTF_8);
        PrintWriter out = spec.commandLine().getOut();
        out.println(json ? new ObjectMapper().createObjectNode().put("text", text).toString() : text);
        out.flush();
        return 0;
    }
}
