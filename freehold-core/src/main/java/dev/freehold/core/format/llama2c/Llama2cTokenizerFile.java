package dev.freehold.core.format.llama2c;

import dev.freehold.core.format.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * llama2.c's {@code tokenizer.bin}: int32 max_token_length, then for each of the vocabulary's tokens a
 * float32 score, an int32 byte length and the piece's bytes. The vocabulary size is not stored; it comes from
 * the checkpoint.
 *
 * @param pieces the raw pieces as in the file (spaces as spaces; ids 1 and 2 as llama2.c writes them)
 * @param scores one score per piece
 */
public record Llama2cTokenizerFile(String[] pieces, float[] scores) {
    /** A tokenizer file holds nothing larger than this (the largest real vocabularies are ~256k pieces). */
    private static final long MAX_FILE_BYTES = 256L << 20;

    public static Llama2cTokenizerFile read(Path path, int vocabSize) throws IOException {
        long size = Files.size(path);
        if (size > MAX_FILE_BYTES) {
            throw new ModelFormatException(path, "file", 0, "%d bytes is far too large for a llama2.c tokenizer".formatted(size));
        }
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 4) {
            throw new ModelFormatException(path, "max_token_length", 0, "file is too short for a llama2.c tokenizer");
        }
        b.getInt(); // max_token_length: not needed
        String[] pieces = new String[vocabSize];
        float[] scores = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            long at = b.position();
            if (b.remaining() < 8) {
                throw new ModelFormatException(path, "token " + i, at,
                        "file ends after %d of the %d tokens the model's vocabulary has".formatted(i, vocabSize));
            }
            scores[i] = b.getFloat();
            int len = b.getInt();
            if (len < 0 || len > b.remaining()) {
                throw new ModelFormatException(path, "token " + i + " length", at + 4,
                        "length %d exceeds the %d bytes that remain".formatted(len, b.remaining()));
            }
            byte[] bytes = new byte[len];
            b.get(bytes);
            pieces[i] = new String(bytes, StandardCharsets.UTF_8);
        }
        return new Llama2cTokenizerFile(pieces, scores);
    }
}
