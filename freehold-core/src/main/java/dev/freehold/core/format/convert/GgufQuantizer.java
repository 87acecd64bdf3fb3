package dev.freehold.core.format.convert;

import dev.freehold.core.format.gguf.GgufFile;
import dev.freehold.core.format.gguf.GgufTensorInfo;
import dev.freehold.core.format.gguf.GgufValue;
import dev.freehold.core.model.GgufKeys;
import dev.freehold.core.tensor.GgmlType;
import dev.freehold.core.util.ProgressListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** GGUF to GGUF with every weight matrix re-encoded to one type, as {@code llama-quantize --pure} does. */
public final class GgufQuantizer {
    private GgufQuantizer() {
    }

    public static GgufConverter.Result quantize(Path input, Path output, GgmlType type, ProgressListener progress) throws IOException {
        if (input.toAbsolutePath().normalize().equals(output.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("output must differ from the input file " + input);
        }
        QuantizationPolicy policy = new QuantizationPolicy(type);
        try (GgufFile in = GgufFile.open(input)) {
            for (GgufTensorInfo t : in.tensors()) {
                if (t.type().codec().isEmpty()) {
                    throw new IllegalArgumentException("tensor %s has type %s, which Freehold cannot decode yet".formatted(t.name(), t.type()));
                }
            }
            return GgufConverter.write(output, metadataFor(in.metadata(), type), sources(in), policy, progress);
        }
    }

    /** The tensors of an open GGUF file as conversion sources. */
    public static List<TensorSource> sources(GgufFile in) {
        List<TensorSource> sources = new ArrayList<>();
        for (GgufTensorInfo t : in.tensors()) {
            sources.add(new SegmentTensorSource(t.name(), t.shape(), t.type(), in.data(t)));
        }
        return sources;
    }

    /** The input's metadata with the file type updated (alignment is recomputed by the writer's default). */
    public static Map<String, GgufValue> metadataFor(Map<String, GgufValue> original, GgmlType type) {
        Map<String, GgufValue> m = new LinkedHashMap<>(original);
        m.remove(GgufKeys.ALIGNMENT);
        m.put(GgufKeys.FILE_TYPE, GgufValue.ofUInt32(FileType.of(type)));
        if (type.isQuantized()) {
            m.put(GgufKeys.QUANTIZATION_VERSION, GgufValue.ofUInt32(2));
        } else {
            m.remove(GgufKeys.QUANTIZATION_VERSION);
        }
        return m;
    }
}
