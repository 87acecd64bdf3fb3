package dev.freehold.core.tokenizer;

/** Encodes one fragment of text (no special tokens in it) by appending ids. */
interface TokenizerAlgorithm {
    void encode(String fragment, Tokenizer.IntList out);
}
