package dev.freehold.core.format.convert;

import dev.freehold.core.tensor.GgmlType;

/** llama.cpp's {@code general.file_type} (llama_ftype) for a file whose weights are all of one type. */
public final class FileType {
    private FileType() {
    }

    public static int of(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case Q5_0 -> 8;
            case Q5_1 -> 9;
            case Q2_K -> 10;
            case Q3_K -> 11; // Q3_K_S: the all-Q3_K variant
            case Q4_K -> 14; // Q4_K_S
            case Q5_K -> 16; // Q5_K_S
            case Q6_K -> 18;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("no llama.cpp file type for " + type);
        };
    }
}
