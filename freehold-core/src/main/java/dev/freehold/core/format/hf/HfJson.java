package dev.freehold.core.format.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.freehold.core.format.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the JSON files of a Hugging Face model directory with a size bound, reporting errors by file. */
final class HfJson {
    private HfJson() {
    }

    static final ObjectMapper MAPPER = new ObjectMapper();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxStringLength(64 << 20).maxNestingDepth(200).build());
    }

    static JsonNode read(Path file, long maxBytes) throws IOException {
        long size = Files.size(file);
        if (size > maxBytes) {
            throw new ModelFormatException(file, "file", 0, "%d bytes is more than the %d this file may have".formatted(size, maxBytes));
        }
        try {
            JsonNode n = MAPPER.readTree(Files.readAllBytes(file));
            if (n == null || !n.isObject()) {
                throw new ModelFormatException(file, "not a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(file, "json", e.getLocation() == null ? -1 : e.getLocation().getByteOffset(),
                    "invalid JSON: " + e.getOriginalMessage());
        }
    }
}
