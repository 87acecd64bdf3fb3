package dev.freehold.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options of every command that writes a model file (a picocli mixin). */
final class OutputOptions {
    @Option(names = {"-f", "--force"}, description = "overwrite OUTPUT if it exists")
    boolean force;

    @Option(names = {"-q", "--quiet"}, description = "no progress display")
    boolean quiet;

    /** Refuses to overwrite an existing file unless --force. */
    void checkWritable(Path output) {
        if (Files.exists(output) && !force) {
            throw new IllegalArgumentException(output + " already exists (use --force to overwrite)");
        }
    }

    CliProgress progress() {
        return new CliProgress(quiet);
    }
}
