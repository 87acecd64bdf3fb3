package dev.freehold.cli;

import dev.freehold.core.format.ImportedModel;
import dev.freehold.core.format.ModelImporter;
import dev.freehold.core.format.convert.FileType;
import dev.freehold.core.format.convert.GgufConverter;
import dev.freehold.core.format.convert.QuantizationPolicy;
import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.model.GgufKeys;
import dev.freehold.core.tensor.GgmlType;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a model to GGUF, the format llama.cpp and Freehold run.",
                "INPUT is a Hugging Face model directory (Llama, Mistral, Qwen2; safetensors), a llama2.c checkpoint, or a GGUF file."},
        footer = {"", "Examples:",
                "  freehold convert ./Llama-3.2-1B-Instruct llama-3.2-1b.gguf --type bf16",
                "  freehold convert stories260K.bin stories260K.gguf --tokenizer tok512.bin"})
final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "INPUT", description = "model to convert")
    Path input;

    @Parameters(index = "1", paramLabel = "OUTPUT.gguf", description = "file to write")
    Path output;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "llama2.c only: the tokenizer.bin (default: tokenizer.bin or tok*.bin beside the checkpoint)")
    Path tokenizer;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "auto",
            description = "type of the weight matrices: auto (keep the source's), f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K (default: ${DEFAULT-VALUE})")
    String type;

    @Mixin
    OutputOptions writing;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        writing.checkWritable(output);

        QuantizationPolicy policy = type.equalsIgnoreCase("auto") ? QuantizationPolicy.keepSourceTypes() : new QuantizationPolicy(QuantizeCommand.parseType(type));
        PrintWriter out = spec.commandLine().getOut();
        try (ImportedModel m = ModelImporter.open(input, tokenizer)) {
            out.printf("converting %s (%s, %d tensors)%n", input, m.format(), m.tensors().size());
            Map<String, GgufValue> metadata = new LinkedHashMap<>(m.metadata());
            if (policy.target() != null) {
                metadata.put(GgufKeys.FILE_TYPE, GgufValue.ofUInt32(FileType.of(policy.target())));
                if (policy.target().isQuantized()) metadata.put(GgufKeys.QUANTIZATION_VERSION, GgufValue.ofUInt32(2));
            }
            GgufConverter.Result r = GgufConverter.write(output, metadata, m.tensors(), policy, writing.progress());
            for (String note : m.notes()) out.println("note: " + note);
            for (String note : r.notes()) out.println("note: " + note);
            out.printf("wrote %s (%s): %s%n", output, Sizes.bytes(Files.size(output)), QuantizeCommand.describe(r.tensorsByType()));
        }
        return 0;
    }
}
